/**
 * The random seed of a test run. `SYNCOPATE_SEED` reproduces a run (the stress mode sets it, and
 * a failing run prints it); without it each run draws a fresh one. Tests take their random choices
 * from `seededRandom(testSeed())`, so the same seed makes the same choices.
 */
export function testSeed(): number {
  const given = process.env.SYNCOPATE_SEED;
  if (given === undefined || given === '') return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(given);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`SYNCOPATE_SEED must be a non-negative integer, got "${given}"`);
  }
  return seed;
}

/** mulberry32: a small, fast generator of floats in [0, 1) that the same seed repeats exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** An integer from `min` to `max`, both included. */
export function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}
