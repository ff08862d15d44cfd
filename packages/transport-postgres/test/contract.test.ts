import { transportContract } from '@syncopate/messaging/testing';
import { afterAll, afterEach, describe, it } from 'vitest';
import { requireServer } from '../../../test/support/availability.js';
import { openDriver } from './driver.js';
import { dropSchemas, POSTGRES_PORT, schemaNamer, urlFor } from './postgres-support.js';

const available = await requireServer('PostgreSQL', POSTGRES_PORT);
const schemas = schemaNamer('contract');

if (available) {
  afterAll(() => dropSchemas(schemas.created));
  await transportContract(
    { namespace: () => urlFor(schemas.next()), openDriver, driverModule: new URL('./driver.ts', import.meta.url) },
    { describe, it, afterEach },
  );
} else it.skip('transport contract: postgres (the server does not answer)', () => {});
