import { deleteRabbitMqNamespaces, RABBITMQ_TEST_URL } from '../../support/rabbitmq.js';

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
