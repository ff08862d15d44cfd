import { afterAll, describe } from 'vitest';
import { transportContract } from '../contract/transport-contract.js';
import { requireServer } from '../support/availability.js';
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
