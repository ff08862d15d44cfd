import pg from 'pg';

/** The test server's database; every suite works in schemas of its own and drops only those. */
export const POSTGRES_BASE_URL = process.env.POSTGRES_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const POSTGRES_PORT = Number(new URL(POSTGRES_BASE_URL).port || 5432);

/** A fresh schema name per call, unique across concurrent runs: `t_<prefix>_<pid>_<n>`. */
export function schemaNamer(prefix: string): { next(): string; created: string[] } {
  let n = 0;
  const created: string[] = [];
  return {
    created,
    next() {
      const name = `t_${prefix}_${process.pid}_${n++}`;
      created.push(name);
      return name;
    },
  };
}

export const urlFor = (schema: string, params = '') => `${POSTGRES_BASE_URL}?schema=${schema}${params}`;

/** Drops the given schemas (the test's own, never anyone else's). */
export async function dropSchemas(schemas: readonly string[]): Promise<void> {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: POSTGRES_BASE_URL });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
