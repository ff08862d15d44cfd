/**
 * Polls until `check` returns a truthy value or `timeoutMs` passes; the failure names what was
 * awaited. The default is a hang detector sized for a machine busy with other suites, not a bound
 * any test asserts: what is awaited comes far sooner on a quiet one. `pauseMs` between checks:
 * raise it where a check is costly (it opens a connection).
 */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 30_000,
  pauseMs = 10,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(pauseMs);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
