import { afterAll, describe } from 'vitest';
import { transportContract } from '../contract/transport-contract.js';
import { requireServer } from '../support/availability.js';
import { REDIS_PORT, redisNamespaces } from './redis-namespaces.js';

const available = await requireServer('Redis', REDIS_PORT);
const namespaces = redisNamespaces('contract');

describe.skipIf(!available)('redis', () => {
  afterAll(() => namespaces.cleanUp());
  transportContract({
    name: 'redis',
    capabilities: { durable: true, crossProcess: true, perKeyOrder: false },
    unknownStats: ['oldestWaitingAgeMs'],
    freshUrl: () => namespaces.fresh().url,
  });
});
