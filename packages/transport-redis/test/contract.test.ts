import { transportContract } from '@syncopate/messaging/testing';
import { afterAll, afterEach, describe, it } from 'vitest';
import { requireServer } from '../../../test/support/availability.js';
import { REDIS_PORT, redisNamespaces } from '../../../test/support/redis-namespaces.js';
import { openDriver } from './driver.js';

const available = await requireServer('Redis', REDIS_PORT);
const namespaces = redisNamespaces('contract');

if (available) {
  afterAll(() => namespaces.cleanUp());
  await transportContract(
    { namespace: () => namespaces.fresh().url, openDriver, driverModule: new URL('./driver.ts', import.meta.url) },
    { describe, it, afterEach },
  );
} else it.skip('transport contract: redis (the server does not answer)', () => {});
