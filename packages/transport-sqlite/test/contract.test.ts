import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transportContract } from '../../messaging/src/testing/transport-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'syncopate-sqlite-'));
let n = 0;
transportContract({
  name: 'sqlite',
  capabilities: { durable: true, crossProcess: true, perKeyOrder: true },
  freshUrl: () => `sqlite:${join(dir, `contract-${n++}.db`)}`,
});
