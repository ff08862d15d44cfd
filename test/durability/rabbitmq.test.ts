import { RABBITMQ_SERVER, rabbitmqServer, requireBinaries, versionOf } from './servers.js';
import { serverDurabilitySuite } from './suite.js';

const available = requireBinaries('RabbitMQ', [RABBITMQ_SERVER]);

serverDurabilitySuite({
  available,
  key: 'rabbitmq',
  order: 3,
  transport: `RabbitMQ ${available ? versionOf(RABBITMQ_SERVER) : ''}`.trim(),
  setting: 'quorum queues, publisher confirms: confirmed once written and fsynced',
  killed: 'the broker (beam.smp)',
  fence: 'broker: silent connection closed',
  server: rabbitmqServer,
  // The broker is the lease: a consumer whose heartbeats stop for two intervals loses its deliveries.
  fencingParams: '&heartbeat=2',
});
