import type { JetStreamManager } from '@nats-io/jetstream';
import type { Layout } from './layout.js';

/**
 * Which event types have a group. JetStream stores a message on any subject of the stream, where
 * it would be kept for no one (a group declared later starts after it): a publish must check first.
 * The consumers are the bindings, so they are the record; this is a cache of them. Bindings are
 * only ever added, so a cached "routable" never goes stale, and an unknown type is looked up on
 * the server before it is called unroutable (another process may have declared it).
 */
export class Routes {
  private readonly routable = new Set<string>();
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly layout: Layout,
  ) {}

  add(type: string): void {
    this.routable.add(type);
  }

  /** Whether every type is already known to be routable: the publish path's check, without a round trip. */
  knows(types: Iterable<string>): boolean {
    for (const type of types) if (!this.routable.has(type)) return false;
    return true;
  }

  /** The first type of `types` that no group is bound to, or undefined. */
  async unroutable(types: Iterable<string>): Promise<string | undefined> {
    const unknown = [...types].filter((type) => !this.routable.has(type));
    if (unknown.length === 0) return undefined;
    await this.refresh();
    return unknown.find((type) => !this.routable.has(type));
  }

  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        for await (const consumer of this.jsm.consumers.list(this.layout.stream)) {
          const type = this.layout.typeOfFilter(consumer.config.filter_subject);
          if (type !== undefined) this.routable.add(type);
        }
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }
}
