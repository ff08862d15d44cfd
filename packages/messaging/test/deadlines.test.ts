import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Deadlines } from '../src/deadlines.js';

/** Records what expired and when, in ms since the test's start. */
function watch(afterMs: number) {
  const started = performance.now();
  const expired: { item: string; atMs: number }[] = [];
  const deadlines = new Deadlines<{ name: string }>(afterMs, ({ name }) => {
    expired.push({ item: name, atMs: performance.now() - started });
  });
  return { deadlines, expired, elapsed: () => performance.now() - started };
}

describe('deadlines kept with one timer', () => {
  it('expires what runs past its deadline, and nothing that finished in time', async () => {
    const { deadlines, expired } = watch(80);
    const finishFast = deadlines.start({ name: 'fast' });
    deadlines.start({ name: 'slow' });
    await delay(20);
    finishFast();
    await delay(150);
    expect(expired.map((e) => e.item)).toEqual(['slow']);
    expect(expired[0]?.atMs).toBeGreaterThanOrEqual(79);
  });

  it('expires a later item at its own deadline after the one the timer was armed for finished', async () => {
    const { deadlines, expired } = watch(100);
    const finishFirst = deadlines.start({ name: 'first' });
    await delay(50);
    deadlines.start({ name: 'second' }); // due at about 150 ms
    finishFirst();
    await delay(250);
    expect(expired.map((e) => e.item)).toEqual(['second']);
    // Not at the first item's deadline (100 ms): the timer re-armed for the second's.
    expect(expired[0]?.atMs).toBeGreaterThanOrEqual(149);
  });

  it('expires several overdue items in the order they started', async () => {
    const { deadlines, expired } = watch(30);
    for (const item of ['a', 'b', 'c']) deadlines.start({ name: item });
    await delay(100);
    expect(expired.map((e) => e.item)).toEqual(['a', 'b', 'c']);
  });

  it('finds the one overdue item among thousands finished out of order', async () => {
    const { deadlines, expired } = watch(60);
    const finishers = Array.from({ length: 3_000 }, (_, n) => deadlines.start({ name: `item ${n}` }));
    // Finished from the newest back, so the finished ones pile up behind the unfinished front.
    for (let n = finishers.length - 1; n >= 0; n--) if (n !== 1_500) finishers[n]?.();
    await delay(150);
    expect(expired.map((e) => e.item)).toEqual(['item 1500']);
  });

  it('expires nothing once closed', async () => {
    const { deadlines, expired } = watch(30);
    deadlines.start({ name: 'left running' });
    deadlines.close();
    await delay(80);
    expect(expired).toEqual([]);
  });
});
