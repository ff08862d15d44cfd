import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { requireServer } from '../../../test/support/availability.js';
import { PostgresDatabase, UnsafeIntegerError } from '../src/index.js';
import { dropSchemas, POSTGRES_BASE_URL, POSTGRES_PORT, schemaNamer } from './postgres-support.js';

const available = await requireServer('PostgreSQL', POSTGRES_PORT);
const schemas = schemaNamer('sqldb');

describe.skipIf(!available)('PostgresDatabase: numbers', () => {
  afterAll(() => dropSchemas(schemas.created));

  it('returns BIGINTs and integer sums as numbers, and fails a value a number would round instead of rounding it', async () => {
    const db = await PostgresDatabase.open({ url: POSTGRES_BASE_URL, schema: schemas.next() });
    try {
      await db.run('CREATE TABLE amounts (n BIGINT NOT NULL)');
      await db.run('INSERT INTO amounts (n) VALUES (?), (?)', [Number.MAX_SAFE_INTEGER - 1, 1]);
      expect(await db.get('SELECT max(n) AS n, sum(n) AS total FROM amounts')).toEqual({
        n: Number.MAX_SAFE_INTEGER - 1,
        total: Number.MAX_SAFE_INTEGER,
      });
      await db.run('INSERT INTO amounts (n) VALUES (?)', ['9007199254740993']);
      await expect(db.get('SELECT max(n) AS n FROM amounts')).rejects.toBeInstanceOf(UnsafeIntegerError);
      await expect(db.get('SELECT sum(n) AS total FROM amounts')).rejects.toThrow(/numeric 18014398509481984/);
      await expect(db.get('SELECT 2.5::numeric AS half')).rejects.toThrow(/as text \(::text\) for the exact digits/);
      // The way out the error names, and the pool still answers after it.
      expect(await db.get('SELECT max(n)::text AS n, 2.5::numeric::float8 AS half FROM amounts')).toEqual({
        n: '9007199254740993',
        half: 2.5,
      });
    } finally {
      await db.close();
    }
  });

  it("leaves pg's global parsers, and so everyone else's pools, as they are", async () => {
    const db = await PostgresDatabase.open({ url: POSTGRES_BASE_URL, schema: schemas.next() });
    const client = new pg.Client({ connectionString: POSTGRES_BASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT 9007199254740993::bigint AS n, 2.5::numeric AS half');
      expect(rows[0]).toEqual({ n: '9007199254740993', half: '2.5' });
    } finally {
      await client.end();
      await db.close();
    }
  });
});
