import { afterAll, describe } from 'vitest';
import { requireServer } from '../../../test/support/availability.js';
import { TestNamespaces } from '../../../test/support/rabbitmq-namespaces.js';
import { transportContract } from '../../messaging/src/testing/transport-contract.js';

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
