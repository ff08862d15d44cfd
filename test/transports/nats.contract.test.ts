import { afterAll, describe } from 'vitest';
import { transportContract } from '../contract/transport-contract.js';
import { requireServer } from '../support/availability.js';
import { deleteTestStreams, freshNatsUrl, NATS_PORT } from './nats/namespaces.js';

const available = await requireServer('NATS', NATS_PORT);

describe.skipIf(!available)('nats', () => {
  afterAll(deleteTestStreams);
  transportContract({
    name: 'nats',
    capabilities: { durable: true, crossProcess: true, perKeyOrder: false },
    unknownStats: ['delayed', 'oldestWaitingAgeMs'],
    freshUrl: freshNatsUrl,
  });
});
