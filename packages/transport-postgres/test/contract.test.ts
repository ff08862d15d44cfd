import { afterAll, describe } from 'vitest';
import { requireServer } from '../../../test/support/availability.js';
import { transportContract } from '../../messaging/src/testing/transport-contract.js';
import { dropSchemas, POSTGRES_PORT, schemaNamer, urlFor } from './postgres-support.js';

const available = await requireServer('PostgreSQL', POSTGRES_PORT);
const schemas = schemaNamer('contract');

describe.skipIf(!available)('postgres', () => {
  afterAll(() => dropSchemas(schemas.created));
  transportContract({
    name: 'postgres',
    capabilities: { durable: true, crossProcess: true, perKeyOrder: true },
    freshUrl: () => urlFor(schemas.next()),
  });
});
