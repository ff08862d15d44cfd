import { Socket } from 'node:net';

/**
 * Whether a server answers on 127.0.0.1:<port>. On a laptop without it, a transport's suite is not
 * registered (with a one-line reason); in CI (see runningInCi) a missing server is a failure, not a skip.
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

/**
 * Whether this run is CI, where a missing server or browser fails the run instead of skipping:
 * CI set to anything but empty, `0` or `false` (CI services set `true`, some `1`).
 */
export function runningInCi(): boolean {
  const ci = process.env.CI?.trim().toLowerCase();
  return ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false';
}

/** Resolves true when the suite should run; throws in CI when the server is missing. */
export async function requireServer(name: string, port: number): Promise<boolean> {
  if (await serverAnswers(port)) return true;
  const reason = `${name} does not answer on 127.0.0.1:${port}`;
  if (runningInCi()) throw new Error(`${reason}, and CI requires every transport`);
  console.warn(`skipping the ${name} suites: ${reason}`);
  return false;
}
