import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTransport } from '@syncopate/messaging';
import '../../src/app/transports.js';
import { PublishingProcess } from './crash.js';
import { GROUP, Probe } from './load.js';
import { durabilitySuite } from './suite.js';

const dir = mkdtempSync(join(tmpdir(), 'syncopate-durability-sqlite-'));

durabilitySuite({
  available: true,
  key: 'sqlite',
  order: 1,
  transport: 'SQLite (embedded)',
  setting: 'WAL, synchronous=full (the default): a publish returns once its commit is fsynced',
  killed: 'the publishing process',
  fence: 'lease token',
  async setUp() {},
  tearDown: () => rm(dir, { recursive: true, force: true }),
  async crash() {
    const url = `sqlite:${join(dir, 'crash.db')}`;
    const transport = await openTransport(url);
    await transport.declareGroup(GROUP, [Probe.type]);
    await transport.close();
    const publisher = new PublishingProcess(url);
    await publisher.restart();
    return { load: publisher, target: publisher, url };
  },
  fencingUrl: () => `sqlite:${join(dir, 'fencing.db')}`,
});
