import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transportContract } from '@syncopate/messaging/testing';
import { afterEach, describe, it } from 'vitest';
import { openDriver } from './driver.js';

const dir = mkdtempSync(join(tmpdir(), 'syncopate-sqlite-'));
let n = 0;
await transportContract(
  {
    namespace: () => `sqlite:${join(dir, `contract-${n++}.db`)}`,
    openDriver,
    driverModule: new URL('./driver.ts', import.meta.url),
  },
  { describe, it, afterEach },
);
