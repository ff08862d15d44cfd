import { transportContract } from '@syncopate/messaging/testing';
import { afterAll, afterEach, describe, it } from 'vitest';
import { requireServer } from '../../../test/support/availability.js';
import { deleteTestStreams, freshNatsUrl, NATS_PORT } from '../../../test/support/nats-namespaces.js';
import { openDriver } from './driver.js';

const available = await requireServer('NATS', NATS_PORT);

if (available) {
  afterAll(deleteTestStreams);
  await transportContract(
    { namespace: freshNatsUrl, openDriver, driverModule: new URL('./driver.ts', import.meta.url) },
    { describe, it, afterEach },
  );
} else it.skip('transport contract: nats (the server does not answer)', () => {});
