/**
 * The load of the durability run: a publisher with a window of publishes in flight at once (as a
 * busy service has), each one event, counting what the transport confirmed (its publish resolved)
 * and what it rejected (its server was down, or went down with the publish in flight).
 */

import { createEvent, defineEvent, type Envelope, sleep } from '@syncopate/messaging';
import { z } from 'zod';

export const Probe = defineEvent({
  type: 'durability.probe',
  version: 1,
  schema: z.object({ n: z.number().int() }),
});

export const GROUP = 'durability';

/** Publishes awaiting their confirmation at once. */
export const WINDOW = 64;
/** A lane whose publish was rejected waits this long before the next, so an outage is not a busy loop. */
const PAUSE_AFTER_REJECTION_MS = 50;

export function probe(n: number): Envelope {
  return createEvent(Probe, { n }, { source: 'urn:syncopate:durability' });
}

export interface LoadFigures {
  confirmed: number;
  rejected: number;
  /** Publishes awaiting their answer now; undefined where publishes commit one at a time in another process. */
  inFlight: number | undefined;
}

/**
 * WINDOW lanes, each publishing one event after another: so WINDOW publishes are in flight at
 * every moment the server answers. A publish that rejects is not retried (a retry could not tell a
 * lost publish from a stored one whose answer was lost); it is simply not confirmed.
 */
export class WindowedPublisher {
  readonly confirmed = new Set<string>();
  rejected = 0;
  inFlight = 0;
  /** The first few distinct reasons for rejections, for a failure message. */
  readonly reasons = new Set<string>();
  private next = 0;
  private stopping = false;
  private readonly lanes: Promise<void>[] = [];

  constructor(
    private readonly publish: (event: Envelope) => Promise<void>,
    private readonly onConfirmed: (id: string) => void = () => {},
  ) {}

  start(): this {
    for (let lane = 0; lane < WINDOW; lane++) this.lanes.push(this.lane());
    return this;
  }

  figures(): LoadFigures {
    return { confirmed: this.confirmed.size, rejected: this.rejected, inFlight: this.inFlight };
  }

  /** Stops taking new publishes and waits for those in flight to settle. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.lanes);
  }

  private async lane(): Promise<void> {
    while (!this.stopping) {
      const event = probe(this.next++);
      this.inFlight += 1;
      let failure: unknown;
      try {
        await this.publish(event);
      } catch (error) {
        failure = error ?? new Error('rejected');
      }
      this.inFlight -= 1;
      if (failure === undefined) {
        this.confirmed.add(event.id);
        this.onConfirmed(event.id);
        // A synchronous backend (SQLite) resolves within the same turn: without a yield the lanes
        // would run on microtasks alone and the process would never read its IPC or timers.
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      this.rejected += 1;
      if (this.reasons.size < 5) this.reasons.add((failure as Error).message);
      await sleep(PAUSE_AFTER_REJECTION_MS);
    }
  }
}
