import { afterAll, describe } from 'vitest';
import { transportContract } from '../contract/transport-contract.js';
import { requireServer } from '../support/availability.js';
import { TestNamespaces } from './rabbitmq/namespaces.js';

const available = await requireServer('RabbitMQ', 5672);
const namespaces = new TestNamespaces('contract');

describe.skipIf(!available)('rabbitmq', () => {
  afterAll(() => namespaces.cleanup());
  transportContract({
    name: 'rabbitmq',
    capabilities: { durable: true, crossProcess: true, perKeyOrder: false },
    unknownStats: ['oldestWaitingAgeMs'],
    freshUrl: () => namespaces.url(),
  });
});
