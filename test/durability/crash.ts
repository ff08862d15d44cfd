/**
 * The crash run: publish under load, kill with SIGKILL at random moments (by how many publishes
 * were confirmed since the last start, so a busy machine changes the timing, not the test), start
 * again, keep publishing, and after the last kill consume everything. Lost = confirmed − consumed.
 */
import { openTransport } from '@syncopate/messaging';
import '../../src/app/transports.js';
import { type Child, startChild } from '../support/processes.js';
import { randomInt } from '../support/seed.js';
import { waitFor } from '../support/wait.js';
import { GROUP, type LoadFigures, Probe, WindowedPublisher } from './load.js';
import type { PublisherReport } from './sqlite-publisher.js';

export const KILLS = 3;
/** Confirmed publishes between a start and the next kill: drawn from this range by the run's seed. */
const PUBLISHES_BEFORE_KILL = { min: 200, max: 1_000 };
/** After the last start: proof that the publisher is back at work on the restarted server. */
const PUBLISHES_AFTER_LAST_START = 500;
/** How long the publisher may take to get that many through (a server's recovery included). */
const PROGRESS_TIMEOUT_MS = 180_000;
const DRAIN_TIMEOUT_MS = 180_000;

/** What gets killed: a server (the publisher reconnects to it) or the publishing process itself. */
export interface CrashTarget {
  kill(): Promise<void>;
  restart(): Promise<void>;
}

export interface Load {
  readonly confirmed: ReadonlySet<string>;
  figures(): LoadFigures;
  /** Why publishes were rejected (the first few reasons), for a failure message. */
  reasons(): string[];
  stop(): Promise<void>;
}

export interface CrashFigures {
  kills: number;
  confirmed: number;
  rejected: number;
  /** Publishes awaiting their confirmation at each kill (unknown for SQLite's publishing process). */
  inFlightAtKills: (number | undefined)[];
  /** Distinct events consumed. */
  consumed: number;
  lost: number;
  /** Deliveries beyond the first of an event. */
  duplicated: number;
  /** Consumed events whose publish was rejected or never answered: stored after all (allowed). */
  unconfirmedDelivered: number;
  /** Ids of lost events (a few), for the failure message. */
  lostIds: string[];
}

export async function crashRun(options: {
  target: CrashTarget;
  load: Load;
  random: () => number;
  /** A URL to consume from once the run is over. */
  url: string;
}): Promise<CrashFigures> {
  const { target, load, random } = options;
  const inFlightAtKills: (number | undefined)[] = [];
  const progress = async (what: string, count: number) => {
    const goal = load.figures().confirmed + count;
    try {
      await waitFor(what, () => load.figures().confirmed >= goal, PROGRESS_TIMEOUT_MS, 5);
    } catch (error) {
      const reasons = load.reasons().join(' | ') || 'none';
      throw new Error(`${(error as Error).message} (${JSON.stringify(load.figures())}; rejections: ${reasons})`);
    }
  };
  for (let kill = 1; kill <= KILLS; kill++) {
    await progress(
      `confirmed publishes before kill ${kill}`,
      randomInt(random, PUBLISHES_BEFORE_KILL.min, PUBLISHES_BEFORE_KILL.max),
    );
    inFlightAtKills.push(load.figures().inFlight);
    await target.kill();
    await target.restart();
  }
  await progress('confirmed publishes after the last restart', PUBLISHES_AFTER_LAST_START);
  await load.stop();
  const figures = load.figures();
  const deliveries = await consumeAll(options.url, load.confirmed);
  const lostIds = [...load.confirmed].filter((id) => !deliveries.has(id));
  let duplicated = 0;
  let unconfirmedDelivered = 0;
  for (const [id, count] of deliveries) {
    duplicated += count - 1;
    if (!load.confirmed.has(id)) unconfirmedDelivered += 1;
  }
  return {
    kills: KILLS,
    confirmed: figures.confirmed,
    rejected: figures.rejected,
    inFlightAtKills,
    consumed: deliveries.size,
    lost: lostIds.length,
    duplicated,
    unconfirmedDelivered,
    lostIds: lostIds.slice(0, 5),
  };
}

/**
 * Consumes the group until every confirmed event has come and the queue is empty; or, if some
 * never come, until the queue has stayed empty with nothing delivered for two seconds (then they
 * are lost: nothing is left to deliver them). Returns the deliveries per event id.
 */
async function consumeAll(url: string, confirmed: ReadonlySet<string>): Promise<Map<string, number>> {
  const transport = await openTransport(url);
  const deliveries = new Map<string, number>();
  let confirmedSeen = 0;
  try {
    const subscription = await transport.subscribe({
      group: GROUP,
      events: [Probe],
      concurrency: 64,
      handler: ({ event }) => {
        const count = deliveries.get(event.id) ?? 0;
        if (count === 0 && confirmed.has(event.id)) confirmedSeen += 1;
        deliveries.set(event.id, count + 1);
      },
    });
    let quiet: { deliveries: number; since: number } | undefined;
    let total = 0;
    await waitFor(
      'every confirmed event consumed, or the queue empty with events missing',
      async () => {
        const stats = await transport.stats(GROUP);
        total = [...deliveries.values()].reduce((sum, count) => sum + count, 0);
        if (stats.waiting > 0 || stats.inFlight > 0) {
          quiet = undefined;
          return false;
        }
        if (confirmedSeen === confirmed.size) return true;
        if (quiet?.deliveries !== total) quiet = { deliveries: total, since: Date.now() };
        return Date.now() - quiet.since >= 2_000;
      },
      DRAIN_TIMEOUT_MS,
      100,
    );
    await subscription.close();
  } finally {
    await transport.close();
  }
  return deliveries;
}

/** A server's load: one transport in this process with WINDOW publishes in flight, reconnecting across kills. */
export async function publishingTo(url: string): Promise<Load & { close(): Promise<void> }> {
  const transport = await openTransport(url);
  await transport.declareGroup(GROUP, [Probe.type]);
  const publisher = new WindowedPublisher((event) => transport.publish(event)).start();
  return {
    confirmed: publisher.confirmed,
    figures: () => publisher.figures(),
    reasons: () => [...publisher.reasons],
    stop: () => publisher.stop(),
    close: () => transport.close(),
  };
}

/**
 * SQLite's load and crash target at once: a publishing process (sqlite-publisher.ts) that is
 * killed with SIGKILL and started again on the same file. Only what the parent heard confirmed
 * counts: a confirmation lost with the process is not checked (it can only make the count smaller).
 */
export class PublishingProcess implements CrashTarget, Load {
  readonly confirmed = new Set<string>();
  private child: Child<PublisherReport> | undefined;
  private rejected = 0;
  private readonly rejectionReasons = new Set<string>();

  constructor(private readonly url: string) {}

  async restart(): Promise<void> {
    const child = startChild<PublisherReport>(new URL('./sqlite-publisher.ts', import.meta.url).href, [this.url]);
    child.process.on('message', (report: PublisherReport) => {
      if (report.kind === 'confirmed') for (const id of report.ids) this.confirmed.add(id);
      else if (report.kind === 'stopped') {
        this.rejected += report.rejected;
        for (const reason of report.reasons) this.rejectionReasons.add(reason);
      }
    });
    this.child = child;
    await child.next((report) => report.kind === 'publishing', 120_000);
  }

  async kill(): Promise<void> {
    await this.child?.kill('SIGKILL');
    this.child = undefined;
  }

  figures(): LoadFigures {
    // better-sqlite3 commits synchronously: the process has one publish in its commit at a time.
    return { confirmed: this.confirmed.size, rejected: this.rejected, inFlight: undefined };
  }

  reasons(): string[] {
    return [...this.rejectionReasons];
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.process.send('stop');
    await child.next((report) => report.kind === 'stopped', 60_000);
    await child.exited;
    this.child = undefined;
  }
}
