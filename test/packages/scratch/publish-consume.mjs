// Run with plain node in a project that installed the packed tarballs: 1,000 events through the
// embedded SQLite transport, each handled once. Prints one JSON line; exits non-zero on failure.
import { createEvent, defineEvent, openTransport } from '@syncopate/messaging';
import '@syncopate/transport-sqlite/register';
import { z } from 'zod';

const COUNT = 1_000;
const OrderPlaced = defineEvent({ type: 'order.placed', version: 1, schema: z.object({ n: z.number().int() }) });

const transport = await openTransport(`sqlite:${process.argv[2]}`);
const handled = new Map();
let done;
const all = new Promise((resolve) => {
  done = resolve;
});
await transport.subscribe({
  group: 'fulfilment',
  events: [OrderPlaced],
  concurrency: 16,
  handler: ({ event }) => {
    handled.set(event.id, (handled.get(event.id) ?? 0) + 1);
    if (handled.size === COUNT) done();
  },
});
const events = Array.from({ length: COUNT }, (_, n) =>
  createEvent(OrderPlaced, { n }, { source: 'urn:scratch', orderingKey: `order-${n % 10}` }),
);
for (let i = 0; i < COUNT; i += 100) await transport.publish(events.slice(i, i + 100));
const timeout = setTimeout(() => {
  console.error(`only ${handled.size} of ${COUNT} handled within 60 s`);
  process.exit(1);
}, 60_000);
await all;
clearTimeout(timeout);
await transport.close();
const twice = [...handled.values()].filter((times) => times > 1).length;
const missing = events.filter((event) => !handled.has(event.id)).length;
console.log(JSON.stringify({ published: COUNT, handled: handled.size, twice, missing }));
process.exit(twice === 0 && missing === 0 ? 0 : 1);
