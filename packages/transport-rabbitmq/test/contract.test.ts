import { transportContract } from '@syncopate/messaging/testing';
import { afterAll, afterEach, describe, it } from 'vitest';
import { requireServer } from '../../../test/support/availability.js';
import { TestNamespaces } from '../../../test/support/rabbitmq-namespaces.js';
import { openDriver } from './driver.js';

const available = await requireServer('RabbitMQ', 5672);
const namespaces = new TestNamespaces('contract');

if (available) {
  afterAll(() => namespaces.cleanup());
  await transportContract(
    { namespace: () => namespaces.url(), openDriver, driverModule: new URL('./driver.ts', import.meta.url) },
    { describe, it, afterEach },
  );
} else it.skip('transport contract: rabbitmq (the server does not answer)', () => {});
