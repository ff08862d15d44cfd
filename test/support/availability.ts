import { Socket } from 'node:net';

/**
 * Whether a server answers on 127.0.0.1:<port>. On a laptop without it, a transport's suite is not
 * registered (with a one-line reason); under CI=true a missing server is a failure, not a skip.
 */
export async function serverAnswers(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => done(true));
  });
}

/** Resolves true when the suite should run; throws under CI=true when the server is missing. */
export async function requireServer(name: string, port: number): Promise<boolean> {
  if (await serverAnswers(port)) return true;
  const reason = `${name} does not answer on 127.0.0.1:${port}`;
  if (process.env.CI === 'true') throw new Error(`${reason}, and CI=true requires every transport`);
  console.warn(`skipping the ${name} suites: ${reason}`);
  return false;
}

/** Drops the PostgreSQL schemas a test created (every one whose name starts with `prefix`). */
export async function dropSchemas(url: string, prefix: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname LIKE $1', [
      `${prefix.replaceAll('_', '\\_')}%`,
    ]);
    for (const { nspname } of rows) await client.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
  } finally {
    await client.end();
  }
}
