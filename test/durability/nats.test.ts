import { NATS_SERVER, natsServer, requireBinaries, versionOf } from './servers.js';
import { serverDurabilitySuite } from './suite.js';

const available = requireBinaries('NATS', [NATS_SERVER]);

serverDurabilitySuite({
  available,
  key: 'nats',
  order: 4,
  transport: `NATS JetStream ${available ? versionOf(NATS_SERVER) : ''}`.trim(),
  setting: 'file storage, the default sync (fsync every 2 minutes): a PubAck means written, not fsynced',
  killed: 'nats-server',
  fence: "driver's lease clock; JetStream does not fence",
  server: natsServer,
});
