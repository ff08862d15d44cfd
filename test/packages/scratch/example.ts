// Type-checked against the shipped .d.ts in a project that installed the tarballs (tsc --noEmit).
// Each @ts-expect-error must meet an error: were the declarations `any`, tsc would fail here.
import {
  createEvent,
  defineEvent,
  type Handler,
  type Message,
  OutboxTable,
  openTransport,
  registerTransport,
  type Transport,
  type TransportDriver,
} from '@syncopate/messaging';
import { MemoryDriver } from '@syncopate/messaging/driver';
import { type ContractTarget, transportContract } from '@syncopate/messaging/testing';
import { parsePostgresUrl } from '@syncopate/transport-postgres';
import { SqliteDatabase } from '@syncopate/transport-sqlite';
import '@syncopate/transport-sqlite/register';
import { z } from 'zod';

const PaymentSucceeded = defineEvent({
  type: 'payment.succeeded',
  version: 1,
  schema: z.object({ paymentId: z.string(), amount: z.number().int() }),
});

export async function example(): Promise<Transport> {
  const transport = await openTransport('sqlite:./data/example.db');
  await transport.subscribe({
    group: 'email',
    events: [PaymentSucceeded],
    handler: async ({ event, signal }) => {
      const cents: number = event.data.amount;
      // @ts-expect-error: the data is typed by the declaration
      const wrong: string = event.data.amount;
      void [cents, wrong, signal.aborted];
    },
  });
  await transport.publish(createEvent(PaymentSucceeded, { paymentId: 'pay_1', amount: 1999 }, { source: 'urn:x' }));
  // @ts-expect-error: createEvent checks the data against the declaration's schema type
  createEvent(PaymentSucceeded, { paymentId: 'pay_1', amount: 'lots' }, { source: 'urn:x' });
  const db = new SqliteDatabase('./data/service.db');
  const outbox = await OutboxTable.open(db);
  await db.transaction((tx) => outbox.append(tx, []));
  return transport;
}

registerTransport({ schemes: ['mine'], openDriver: async (): Promise<TransportDriver> => new MemoryDriver() });

const target: ContractTarget = { namespace: () => 'n', openDriver: async (store) => new MemoryDriver(store) };
export const registering: Promise<void> = transportContract(target, {
  describe: (_name, body) => body(),
  it: () => {},
  afterEach: () => {},
});

export const handler: Handler = (message: Message) => void message.event.id;
export const schema: string = parsePostgresUrl('postgres://db.example:5432/app?schema=queue').schema;
