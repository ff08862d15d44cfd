import pg from 'pg';

/**
 * The test server's database (POSTGRES_TEST_URL, else the local trust-auth `test` database); every
 * suite works in schemas of its own and drops only those.
 */
export const POSTGRES_TEST_URL = process.env.POSTGRES_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const POSTGRES_PORT = Number(new URL(POSTGRES_TEST_URL).port || 5432);

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

/** The test database's URL with these query parameters (`schema_prefix=t_x_`, `schema=q&poll=100`). */
export const postgresTestUrl = (params: string) =>
  `${POSTGRES_TEST_URL}${POSTGRES_TEST_URL.includes('?') ? '&' : '?'}${params}`;

/** A transport URL on the test database, in the given schema; `params` go on as `&name=value`. */
export const urlFor = (schema: string, params = '') => postgresTestUrl(`schema=${schema}${params}`);

/**
 * Drops the test's own schemas, never anyone else's: the given names, or every schema whose name
 * starts with `prefix` (for schemas a system under test made from a `schema_prefix`).
 */
export async function dropSchemas(which: readonly string[] | { prefix: string }): Promise<void> {
  if (Array.isArray(which) && which.length === 0) return;
  const client = new pg.Client({ connectionString: POSTGRES_TEST_URL });
  await client.connect();
  try {
    const names =
      'prefix' in which
        ? (
            await client.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname LIKE $1', [
              `${which.prefix.replaceAll('_', '\\_')}%`,
            ])
          ).rows.map((row) => row.nspname)
        : which;
    for (const schema of names) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
