import amqp from 'amqplib';
import { Names } from '../../src/messaging/transports/rabbitmq/names.js';
import { deleteNamespace } from '../../src/messaging/transports/rabbitmq/topology.js';

/** The shared test broker. */
export const RABBITMQ_TEST_URL = 'amqp://guest:guest@127.0.0.1:5672';
export const RABBITMQ_PORT = 5672;

/**
 * Deletes the queues and exchanges of the given namespaces (URL prefixes) on the test broker,
 * for the given groups: only what a test made under its own prefixes, never anyone else's.
 */
export async function deleteRabbitMqNamespaces(prefixes: readonly string[], groups: readonly string[]): Promise<void> {
  if (prefixes.length === 0) return;
  const model = await amqp.connect(RABBITMQ_TEST_URL);
  model.on('error', () => {});
  try {
    for (const prefix of prefixes) await deleteNamespace(model, new Names(prefix), groups);
  } finally {
    await model.close().catch(() => {});
  }
}
