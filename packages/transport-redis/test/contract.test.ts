import { afterAll, describe } from 'vitest';
import { requireServer } from '../../../test/support/availability.js';
import { REDIS_PORT, redisNamespaces } from '../../../test/support/redis-namespaces.js';
import { transportContract } from '../../messaging/src/testing/transport-contract.js';

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
