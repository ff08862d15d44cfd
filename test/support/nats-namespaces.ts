import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

export const NATS_PORT = 4222;

/** Every stream this test run creates starts with this, so cleaning up never touches anyone else's. */
const runPrefix = `SYNCTEST-${process.pid}-${randomBytes(3).toString('hex')}`;
let n = 0;

export function freshNatsUrl(): string {
  return `nats://127.0.0.1:${NATS_PORT}?stream=${runPrefix}-${n++}`;
}

/** Deletes the streams (main, dead-letter, attempts) of this run's namespaces, and only those. */
export async function deleteTestStreams(): Promise<void> {
  const nc = await connect({ servers: `127.0.0.1:${NATS_PORT}` });
  try {
    const jsm = await jetstreamManager(nc);
    const mine: string[] = [];
    for await (const name of jsm.streams.names()) if (name.startsWith(`${runPrefix}-`)) mine.push(name);
    await Promise.all(mine.map((name) => jsm.streams.delete(name)));
  } finally {
    await nc.close();
  }
}
