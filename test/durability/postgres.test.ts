import { join } from 'node:path';
import { postgresBin, postgresServer, RUNUSER, requireBinaries, versionOf } from './servers.js';
import { serverDurabilitySuite } from './suite.js';

const bin = postgresBin();
const binaries = [join(bin, 'initdb'), join(bin, 'postgres'), ...(process.getuid?.() === 0 ? [RUNUSER] : [])];
const available = requireBinaries('PostgreSQL', binaries);

serverDurabilitySuite({
  available,
  key: 'postgres',
  order: 2,
  transport: `PostgreSQL ${available ? versionOf(join(bin, 'postgres')) : ''}`.trim(),
  setting: 'fsync=on, synchronous_commit=on (the defaults): a commit returns once its WAL is flushed',
  killed: 'the postmaster and its backends',
  fence: 'lease token',
  server: postgresServer,
});
