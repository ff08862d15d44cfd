import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Layout } from './layout.js';

/** What JetStream does not keep about a delivery and the contract needs. */
export interface AttemptRecord {
  firstAttemptAt: number;
}

/**
 * When a retried message was first attempted: a stream used as a key-value store (one subject per
 * message, one message per subject), written only on a message's first retry and read only on a
 * redelivery. A first delivery, the common case, neither reads nor writes here.
 */
export class AttemptLedger {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly layout: Layout,
  ) {}

  async read(group: string, streamSequence: number): Promise<AttemptRecord | undefined> {
    const stored = await this.jsm.streams.getMessage(this.layout.attemptsStream, {
      last_by_subj: this.layout.attemptsSubject(group, streamSequence),
    });
    return stored ? (stored.json() as AttemptRecord) : undefined;
  }

  async write(group: string, streamSequence: number, record: AttemptRecord): Promise<void> {
    await this.js.publish(this.layout.attemptsSubject(group, streamSequence), JSON.stringify(record));
  }

  /** Once the message is settled for good its record has no use. */
  async forget(group: string, streamSequence: number): Promise<void> {
    await this.jsm.streams.purge(this.layout.attemptsStream, {
      filter: this.layout.attemptsSubject(group, streamSequence),
    });
  }
}
