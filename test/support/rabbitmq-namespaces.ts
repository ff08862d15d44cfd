import { deleteNamespace, Names } from '@syncopate/transport-rabbitmq';
import amqp from 'amqplib';

export const BROKER = 'amqp://guest:guest@127.0.0.1:5672';

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
    return `${BROKER}?prefix=${prefix}${query}`;
  }

  async cleanup(): Promise<void> {
    const model = await amqp.connect(BROKER);
    model.on('error', () => {});
    try {
      for (const prefix of this.prefixes.splice(0)) await deleteNamespace(model, new Names(prefix), GROUPS);
    } finally {
      await model.close().catch(() => {});
    }
  }
}
