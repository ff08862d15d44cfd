import { afterAll, describe } from 'vitest';
import { requireServer } from '../../../test/support/availability.js';
import { deleteTestStreams, freshNatsUrl, NATS_PORT } from '../../../test/support/nats-namespaces.js';
import { transportContract } from '../../messaging/src/testing/transport-contract.js';

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
