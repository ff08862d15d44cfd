/**
 * The two durability tests of one transport: confirmed publishes survive SIGKILLs under load, and
 * a consumer stopped past its lease cannot settle a message another consumer now holds.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { killAllChildren } from '../support/processes.js';
import { seededRandom } from '../support/seed.js';
import { type CrashFigures, type CrashTarget, crashRun, KILLS, type Load, publishingTo } from './crash.js';
import { type FencingFigures, lateAckIsRefused } from './fencing.js';
import { record, type TransportEntry } from './results.js';
import type { OwnServer } from './servers.js';

export interface DurabilitySpec {
  /** Whether what the run needs is here (binaries); false skips the file's tests (a failure under CI). */
  available: boolean;
  /** The results file's name, and the order of the table's rows. */
  key: string;
  order: number;
  transport: string;
  setting: string;
  /** What is killed, for the test's name. */
  killed: string;
  /** What refuses a late settle on this transport, for the table. */
  fence: string;
  /** Starts what the run needs (a server), once for the file. */
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** The publishing load on a fresh namespace, the kill target, and the URL to consume from. */
  crash(): Promise<{ load: Load & { close?(): Promise<void> }; target: CrashTarget; url: string }>;
  /** A URL on a fresh namespace for the fencing test. */
  fencingUrl(): string;
}

export function durabilitySuite(spec: DurabilitySpec): void {
  describe.skipIf(!spec.available)(spec.transport, () => {
    const results = inject('durabilityResults');
    const seed = inject('durabilitySeed');
    const row = (entry: Partial<TransportEntry>) =>
      record(results, spec.key, { order: spec.order, transport: spec.transport, setting: spec.setting, ...entry });

    beforeAll(() => spec.setUp(), 300_000);
    afterAll(async () => {
      await killAllChildren();
      await spec.tearDown();
    }, 120_000);

    it(`a confirmed publish survives ${KILLS} SIGKILLs of ${spec.killed} under load: lost = confirmed − consumed = 0`, async () => {
      const started = performance.now();
      const { load, target, url } = await spec.crash();
      let figures: CrashFigures;
      try {
        figures = await crashRun({ target, load, url, random: seededRandom(seed + spec.order) });
      } finally {
        await load.close?.();
      }
      row({ crash: { ...figures, seconds: Math.round((performance.now() - started) / 1_000) } });
      expect(figures.lost, `lost (seed ${seed}); some of them: ${figures.lostIds.join(', ')}`).toBe(0);
      expect(figures.consumed).toBeGreaterThanOrEqual(figures.confirmed);
      // Every kill hit a publisher at work: publishes were waiting for their answer (where that can be told).
      for (const inFlight of figures.inFlightAtKills) if (inFlight !== undefined) expect(inFlight).toBeGreaterThan(0);
    });

    it('a consumer stopped past its lease loses the message to another, and its late ack is refused', async () => {
      const started = performance.now();
      const figures: FencingFigures = await lateAckIsRefused(spec.fencingUrl());
      row({ fencing: { ...figures, fence: spec.fence, seconds: Math.round((performance.now() - started) / 1_000) } });
      // Attempts count across the frozen consumer: the other one got a later attempt, and so did the return.
      expect(figures.takenOverAt).toBeGreaterThan(1);
      expect(figures.cameBackAs).toBeGreaterThan(figures.takenOverAt);
    });
  });
}

/** The durability tests of a transport whose server the run starts, kills and starts again. */
export function serverDurabilitySuite(
  spec: Pick<DurabilitySpec, 'available' | 'key' | 'order' | 'transport' | 'setting' | 'killed' | 'fence'> & {
    server(): Promise<OwnServer>;
    /** URL parameters the fencing test's consumers add (RabbitMQ: a short heartbeat). */
    fencingParams?: string;
  },
): void {
  let server: OwnServer | undefined;
  const running = () => {
    if (!server) throw new Error(`${spec.transport}: the server did not start`);
    return server;
  };
  durabilitySuite({
    ...spec,
    async setUp() {
      server = await spec.server();
      await server.start();
    },
    tearDown: async () => server?.dispose(),
    async crash() {
      const url = running().url('durability');
      return {
        load: await publishingTo(url),
        target: { kill: () => running().kill(), restart: () => running().start() },
        url,
      };
    },
    fencingUrl: () => `${running().url('fencing')}${spec.fencingParams ?? ''}`,
  });
}
