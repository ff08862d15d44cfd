import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, type SqlDatabase, type SqlExecutor } from '@syncopate/messaging';
import { SqliteDatabase } from '@syncopate/transport-sqlite';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqlDatabase } from '../../src/platform/open-sql-database.js';
import { requireServer } from '../support/availability.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const pgAvailable = await requireServer('PostgreSQL', 5432);
const dir = mkdtempSync(join(tmpdir(), 'syncopate-sql-'));
// Where SQLite puts the temporary files it needs: read once, at its first open in this process.
const sqliteTemp = mkdtempSync(join(tmpdir(), 'syncopate-sql-temp-'));
process.env.SQLITE_TMPDIR = sqliteTemp;
const schemas: string[] = [];

afterAll(async () => {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

const engines: [string, boolean, () => Promise<SqlDatabase>][] = [
  [
    'sqlite',
    true,
    () => openSqlDatabase(`sqlite:${join(dir, `${randomBytes(4).toString('hex')}.db`)}`, { schema: 'unused' }),
  ],
  [
    'postgres',
    pgAvailable,
    () => {
      const schema = `t_sql_${randomBytes(4).toString('hex')}`;
      schemas.push(schema);
      return openSqlDatabase(PG_URL, { schema });
    },
  ],
];

const MIGRATIONS = [
  `CREATE TABLE items (id TEXT PRIMARY KEY, amount BIGINT NOT NULL, note TEXT);
   CREATE INDEX items_by_amount ON items (amount);`,
  {
    sqlite: 'CREATE TABLE seq (n INTEGER PRIMARY KEY, label TEXT NOT NULL)',
    postgres: 'CREATE TABLE seq (n BIGSERIAL PRIMARY KEY, label TEXT NOT NULL)',
  },
];

describe.each(engines)('SqlDatabase on %s', (_name, available, open) => {
  it.runIf(available)('migrates once, whatever the number of starts', async () => {
    const db = await open();
    await migrate(db, 'test', MIGRATIONS);
    await migrate(db, 'test', MIGRATIONS);
    const rows = await db.all<{ version: number }>(
      'SELECT version FROM schema_migrations WHERE scope = ? ORDER BY version',
      ['test'],
    );
    expect(rows.map((r) => r.version)).toEqual([1, 2]);
    await db.close();
  });

  it.runIf(available)(
    'runs a migration script as the engine parses it: a semicolon in a literal stays in it',
    async () => {
      const db = await open();
      await migrate(db, 'notes', [
        `CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL);
       INSERT INTO notes (id, body) VALUES (1, 'first line;
second line; and a third');
       INSERT INTO notes (id, body) VALUES (2, 'plain')`,
      ]);
      expect(await db.all('SELECT id, body FROM notes ORDER BY id')).toEqual([
        { id: 1, body: 'first line;\nsecond line; and a third' },
        { id: 2, body: 'plain' },
      ]);
      await db.close();
    },
  );

  it.runIf(available)('binds ? placeholders and returns BIGINTs as numbers', async () => {
    const db = await open();
    await migrate(db, 'test', MIGRATIONS);
    await db.run('INSERT INTO items (id, amount, note) VALUES (?, ?, ?)', ['a', 1_700_000_000_000, "it's ?"]);
    expect(await db.get('SELECT id, amount, note FROM items WHERE id = ?', ['a'])).toEqual({
      id: 'a',
      amount: 1_700_000_000_000,
      note: "it's ?",
    });
    const counted = await db.get<{ n: number }>('SELECT count(*) AS n FROM items');
    expect(counted?.n).toBe(1);
    expect((await db.run('UPDATE items SET note = ? WHERE id = ?', ['b', 'nope'])).changes).toBe(0);
    await db.close();
  });

  it.runIf(available)('commits a transaction whole, rolls a failing one back whole, alone', async () => {
    const db = await open();
    await migrate(db, 'test', MIGRATIONS);
    const results = await Promise.allSettled([
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO items (id, amount) VALUES (?, ?)', ['x', 1]);
        await tx.run('INSERT INTO items (id, amount) VALUES (?, ?)', ['y', 2]);
        return 'kept';
      }),
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO items (id, amount) VALUES (?, ?)', ['z', 3]);
        await tx.run('INSERT INTO items (id, amount) VALUES (?, ?)', ['x', 4]); // duplicate key
      }),
      db.transaction(async (tx) => (await tx.run('INSERT INTO items (id, amount) VALUES (?, ?)', ['w', 5])).changes),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const ids = (await db.all<{ id: string }>('SELECT id FROM items ORDER BY id')).map((r) => r.id);
    expect(ids).toEqual(['w', 'x', 'y']);
    await db.close();
  });

  it.runIf(available)("runs each transaction's work in its caller's async context, batched or not", async () => {
    // Tracing hangs on it: the span a transaction's work starts must be a child of its own request's.
    const db = await open();
    await migrate(db, 'test', MIGRATIONS);
    const caller = new AsyncLocalStorage<string>();
    const seen = await Promise.all(
      ['first', 'second', 'third'].map((name) =>
        caller.run(name, () =>
          db.transaction(async (tx) => {
            await tx.run('INSERT INTO seq (label) VALUES (?)', [name]);
            return caller.getStore();
          }),
        ),
      ),
    );
    expect(seen).toEqual(['first', 'second', 'third']);
    await db.close();
  });

  it.runIf(available)('makes a committed write visible to another connection', async () => {
    const db = await open();
    await migrate(db, 'test', MIGRATIONS);
    await db.transaction(async (tx) => tx.run('INSERT INTO seq (label) VALUES (?)', ['first']));
    const rows = await db.all<{ n: number; label: string }>('SELECT n, label FROM seq');
    expect(rows).toEqual([{ n: 1, label: 'first' }]);
    await db.close();
  });
});

describe('SqlDatabase on sqlite: durability', () => {
  it('resolves a durable batch (with any relaxed work beside it, and a write outside a transaction) after a sync of the log, and a relaxed batch without one', async () => {
    const db = new SqliteDatabase(join(dir, `${randomBytes(4).toString('hex')}.db`));
    await migrate(db, 'test', MIGRATIONS);
    const wal = db.wal;
    if (!wal) throw new Error('a file database in WAL mode syncs its log');
    const syncsFor = async (work: () => Promise<unknown>) => {
      const before = wal.synced;
      await work();
      return wal.synced - before;
    };
    const insert = (tx: SqlExecutor, label: string) => tx.run('INSERT INTO seq (label) VALUES (?)', [label]);
    const durable = (label: string) => db.transaction((tx) => insert(tx, label));
    const relaxed = (label: string) => db.transaction((tx) => insert(tx, label), { durable: false });
    // The connection never syncs in COMMIT: the log is synced off the event loop instead.
    expect(await db.get<{ synchronous: number }>('PRAGMA synchronous')).toEqual({ synchronous: 1 });
    expect(await syncsFor(() => durable('a'))).toBe(1);
    expect(await syncsFor(() => Promise.all([relaxed('b'), durable('c')]))).toBe(1);
    expect(await syncsFor(() => relaxed('d'))).toBe(0);
    expect(await syncsFor(() => db.run('INSERT INTO seq (label) VALUES (?)', ['outside']))).toBe(1);
    // Transactions asked for in one turn share one commit and one sync; so do those asked for a
    // few turns later, while the batch gathers.
    expect(await syncsFor(() => Promise.all(['e', 'f', 'g'].map((label) => durable(label))))).toBe(1);
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    expect(
      await syncsFor(async () => {
        const first = durable('h');
        await turn();
        const second = durable('i');
        await turn();
        await Promise.all([first, second, durable('j')]);
      }),
    ).toBe(1);
    expect((await db.all<{ label: string }>('SELECT label FROM seq ORDER BY n')).map((row) => row.label)).toEqual([
      'a',
      'b',
      'c',
      'd',
      'outside',
      'e',
      'f',
      'g',
      'h',
      'i',
      'j',
    ]);
    await db.close();
  });

  it('commits without syncing at all when opened with synchronous: normal', async () => {
    const db = new SqliteDatabase(join(dir, `${randomBytes(4).toString('hex')}.db`), { synchronous: 'normal' });
    expect(db.wal).toBeUndefined();
    await migrate(db, 'test', MIGRATIONS);
    expect(await db.transaction((tx) => tx.get<{ n: number }>('SELECT count(*) AS n FROM seq'))).toEqual({ n: 0 });
    await db.close();
  });
});

describe('SqlDatabase on sqlite: temporary data', () => {
  it("keeps a group commit's savepoint journals in memory, however many pages a unit changes again", async () => {
    const db = new SqliteDatabase(join(dir, `${randomBytes(4).toString('hex')}.db`));
    await migrate(db, 'test', MIGRATIONS);
    const created: string[] = [];
    const watcher = watch(sqliteTemp, (_event, name) => created.push(String(name)));
    try {
      const note = 'n'.repeat(1_000);
      // One batch: the second unit changes again the ~40 pages the first one wrote, so its savepoint
      // journals them (160 KB): past 64 KiB, SQLite's default spills such a journal to a file.
      const [, updated] = await Promise.all([
        db.transaction(async (tx) => {
          for (let i = 0; i < 150; i++)
            await tx.run('INSERT INTO items (id, amount, note) VALUES (?, ?, ?)', [`i${i}`, i, note]);
        }),
        db.transaction((tx) => tx.run('UPDATE items SET note = upper(note)')),
      ]);
      expect(updated.changes).toBe(150);
      await new Promise((resolve) => setTimeout(resolve, 100)); // file events arrive asynchronously
      expect(created).toEqual([]);
    } finally {
      watcher.close();
      await db.close();
    }
  });
});

describe.skipIf(!pgAvailable)('SqlDatabase on postgres: sync level per transaction', () => {
  it('commits a relaxed transaction without waiting for the WAL flush, and a durable one waiting', async () => {
    const [, , open] = engines[1] ?? [];
    if (!open) throw new Error('no postgres engine');
    const db = await open();
    const level = (tx: Pick<SqlDatabase, 'get'>) =>
      tx.get<{ synchronous_commit: string }>('SHOW synchronous_commit').then((row) => row?.synchronous_commit);
    expect(await db.transaction((tx) => level(tx), { durable: false })).toBe('off');
    expect(await db.transaction((tx) => level(tx))).toBe('on');
    // SET LOCAL ends with its transaction: the connection goes back to the pool as it came.
    expect(await level(db)).toBe('on');
    await db.close();
  });
});

describe.skipIf(!pgAvailable)('SqlDatabase on postgres: prepared statements', () => {
  it('prepares a statement with parameters once per connection and reuses it; one without goes as a simple query', async () => {
    const [, , open] = engines[1] ?? [];
    if (!open) throw new Error('no postgres engine');
    const db = await open();
    await migrate(db, 'prepared', MIGRATIONS);
    const statements = await db.transaction(async (tx) => {
      for (let n = 0; n < 3; n++) await tx.run('INSERT INTO items (id, amount) VALUES (?, ?)', [`i${n}`, n]);
      await tx.run('UPDATE items SET note = NULL');
      return tx.all<{ statement: string }>(
        "SELECT statement FROM pg_prepared_statements WHERE name LIKE 'syncopate-sql-%' AND statement LIKE '%items%'",
      );
    });
    expect(statements.map((row) => row.statement)).toEqual(['INSERT INTO items (id, amount) VALUES ($1, $2)']);
    expect(await db.get<{ n: number }>('SELECT count(*) AS n FROM items WHERE amount >= ?', [0])).toEqual({ n: 3 });
    await db.close();
  });
});

describe.skipIf(!pgAvailable)('migrations on postgres, from processes starting together', () => {
  it('five connections migrating one fresh schema at once: each migration applied once, no collision', async () => {
    const schema = `t_sql_race_${randomBytes(4).toString('hex')}`;
    schemas.push(schema);
    const dbs = await Promise.all(Array.from({ length: 5 }, () => openSqlDatabase(PG_URL, { schema })));
    try {
      await Promise.all(dbs.map((db) => migrate(db, 'race', MIGRATIONS)));
      const rows = await dbs[0]?.all<{ version: number }>(
        "SELECT version FROM schema_migrations WHERE scope = 'race' ORDER BY version",
      );
      expect(rows?.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((_, i) => i + 1));
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
  });
});
