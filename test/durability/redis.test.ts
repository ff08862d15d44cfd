import { inject } from 'vitest';
import { record } from './results.js';
import { REDIS_SERVER, redisServer, requireBinaries, versionOf } from './servers.js';
import { serverDurabilitySuite } from './suite.js';

const available = requireBinaries('Redis', [REDIS_SERVER]);
const version = available ? versionOf(REDIS_SERVER) : '';

serverDurabilitySuite({
  available,
  key: 'redis-aof-always',
  order: 5,
  transport: `Redis ${version}`.trim(),
  setting: 'appendonly yes, appendfsync always: every write fsynced to the AOF before the reply',
  killed: 'redis-server',
  fence: 'owner + delivery count, in Lua',
  server: redisServer,
});

// Stock Redis keeps the data set in memory only (the machines' one runs with appendonly no,
// save ""): a restart empties the queue, so it is reported as not durable rather than tested.
record(inject('durabilityResults'), 'redis-stock', {
  order: 6,
  transport: `Redis ${version}`.trim(),
  setting: 'appendonly no, save "" (no persistence)',
  note: 'not durable: a restart loses the queue (not tested)',
});
