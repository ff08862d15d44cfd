import { deleteNamespace, Names } from '@syncopate/transport-rabbitmq';
import amqp from 'amqplib';

/** The shared test broker. */
export const RABBITMQ_TEST_URL = 'amqp://guest:guest@127.0.0.1:5672';
export const RABBITMQ_PORT = 5672;

/** Every group name the contract suite and these tests use: queues are deleted by name. */
const GROUPS = ['g', 'email', 'analytics', 'workers', 'late', 'one', 'two', 'bench'];

/**
 * Fresh namespaces (URL prefixes) on the shared broker, and their removal afterwards: only the
 * queues and exchanges under prefixes handed out here are ever deleted.
 */
export class TestNamespaces {
  private readonly prefixes: string[] = [];
  private n = 0;

  constructor(private readonly label: string) {}

  url(query = ''): string {
    const prefix = `syncopate-test-${this.label}-${process.pid}-${this.n++}`;
    this.prefixes.push(prefix);
    return `${RABBITMQ_TEST_URL}?prefix=${prefix}${query}`;
  }

  cleanup(): Promise<void> {
    return deleteRabbitMqNamespaces(this.prefixes.splice(0), GROUPS);
  }
}

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
