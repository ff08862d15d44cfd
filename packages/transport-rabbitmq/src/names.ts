/** Every exchange and queue name of one namespace (the URL's `prefix`), in one place. */
export class Names {
  constructor(readonly prefix: string) {}

  /** Topic exchange the events are published to; the routing key is the event type. */
  get events(): string {
    return `${this.prefix}.events`;
  }

  /** Mirrors the events exchange's bindings, so a publish can ask "is this type routable?" without storing anything. */
  get probe(): string {
    return `${this.prefix}.probe`;
  }

  /** Where probes land: a queue that keeps nothing. */
  get probeSink(): string {
    return `${this.prefix}.probe-sink`;
  }

  group(group: string): string {
    return `${this.prefix}.group.${group}`;
  }

  deadLetters(group: string): string {
    return `${this.prefix}.dlq.${group}`;
  }

  retryTier(group: string, tierMs: number): string {
    return `${this.prefix}.retry.${group}.${tierMs}ms`;
  }
}
