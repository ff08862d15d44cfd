import type { Channel, ChannelModel } from 'amqplib';
import type { Names } from './names.js';
import { RETRY_TIERS_MS } from './retry-tiers.js';

const QUORUM = { 'x-queue-type': 'quorum' };

/**
 * Declares the namespace's exchanges and queues. Everything is durable (quorum queues, durable
 * exchanges and bindings), so it survives a broker restart; after a reconnection the groups this
 * process declared are declared again anyway, in case the broker lost them.
 */
export class Topology {
  private readonly groups = new Map<string, Set<string>>();
  private readonly tiers = new Set<string>();
  private channel: Promise<Channel> | undefined;

  constructor(
    readonly names: Names,
    private readonly connect: () => Promise<ChannelModel>,
  ) {}

  async declareGroup(group: string, eventTypes: readonly string[]): Promise<void> {
    const known = this.groups.get(group);
    const missing = eventTypes.filter((type) => !known?.has(type));
    if (known && missing.length === 0) return;
    await this.declareOn(await this.openChannel(), group, known ? missing : eventTypes, !known);
    const types = known ?? new Set<string>();
    for (const type of eventTypes) types.add(type);
    this.groups.set(group, types);
  }

  /** The retry queue of one delay tier, declared the first time this process needs it. */
  async retryTier(group: string, tierMs: number): Promise<string> {
    const name = this.names.retryTier(group, tierMs);
    if (this.tiers.has(name)) return name;
    const channel = await this.openChannel();
    await channel.assertQueue(name, {
      durable: true,
      arguments: {
        ...QUORUM,
        'x-message-ttl': tierMs,
        // Back to the group's queue through the default exchange: to that group only.
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': this.names.group(group),
        // Quorum queues then hand an expired message over only once the group's queue has it.
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      },
    });
    this.tiers.add(name);
    return name;
  }

  /** Re-declares what this process declared, on a fresh connection. */
  async restore(model: ChannelModel): Promise<void> {
    this.tiers.clear();
    this.channel = undefined;
    const channel = await model.createChannel();
    channel.on('error', () => {});
    try {
      for (const [group, types] of this.groups) await this.declareOn(channel, group, [...types], true);
    } finally {
      await channel.close().catch(() => {});
    }
  }

  private async declareOn(channel: Channel, group: string, eventTypes: readonly string[], queues: boolean) {
    const { names } = this;
    await channel.assertExchange(names.events, 'topic', { durable: true });
    await channel.assertExchange(names.probe, 'topic', { durable: true });
    if (queues) {
      await channel.assertQueue(names.probeSink, {
        durable: true,
        arguments: { 'x-max-length': 0, 'x-overflow': 'drop-head' },
      });
      await channel.assertQueue(names.group(group), { durable: true, arguments: QUORUM });
      await channel.assertQueue(names.deadLetters(group), { durable: true, arguments: QUORUM });
    }
    for (const type of eventTypes) {
      await channel.bindQueue(names.group(group), names.events, type);
      await channel.bindQueue(names.probeSink, names.probe, type);
    }
  }

  /** One channel for declarations; a failed declaration closes it, so the next call opens another. */
  private openChannel(): Promise<Channel> {
    if (this.channel) return this.channel;
    const opening = this.connect().then((model) => model.createChannel());
    this.channel = opening;
    opening.then(
      (channel) => {
        channel.on('error', () => {});
        channel.once('close', () => {
          if (this.channel === opening) this.channel = undefined;
        });
      },
      () => {
        if (this.channel === opening) this.channel = undefined;
      },
    );
    return opening;
  }
}

/**
 * Deletes a namespace's exchanges and the queues of the given groups, messages included. For
 * tests and for retiring a namespace; RabbitMQ cannot list queues over AMQP, so the groups are named.
 */
export async function deleteNamespace(model: ChannelModel, names: Names, groups: readonly string[]): Promise<void> {
  const channel = await model.createChannel();
  channel.on('error', () => {});
  try {
    for (const group of groups) {
      await channel.deleteQueue(names.group(group));
      await channel.deleteQueue(names.deadLetters(group));
      for (const tier of RETRY_TIERS_MS) await channel.deleteQueue(names.retryTier(group, tier));
    }
    await channel.deleteQueue(names.probeSink);
    await channel.deleteExchange(names.events);
    await channel.deleteExchange(names.probe);
  } finally {
    await channel.close().catch(() => {});
  }
}
