// A driver written outside the toolkit: the memory driver behind a thin wrapper that counts what
// it publishes. The contract suite's factory opens it.
import { MemoryDriver } from '@syncopate/messaging/driver';

export class CountingDriver {
  published = 0;
  #inner;

  constructor(store) {
    this.#inner = new MemoryDriver(store);
  }

  get name() {
    return 'counting-memory';
  }

  get capabilities() {
    return this.#inner.capabilities;
  }

  get deadLetters() {
    return this.#inner.deadLetters;
  }

  declareGroup(group, eventTypes) {
    return this.#inner.declareGroup(group, eventTypes);
  }

  async publish(events) {
    await this.#inner.publish(events);
    this.published += events.length;
  }

  openQueue(options) {
    return this.#inner.openQueue(options);
  }

  stats(group) {
    return this.#inner.stats(group);
  }

  ping() {
    return this.#inner.ping();
  }

  close() {
    return this.#inner.close();
  }
}

export async function openDriver(store) {
  return new CountingDriver(store);
}
