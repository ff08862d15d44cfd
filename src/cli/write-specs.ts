import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { asyncApiDocument } from '../app/api-documents.js';
import { ALL_MODULES } from '../app/modules.js';
import { startSystem } from '../app/system.js';
import { loadConfig } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';

/**
 * `npm run specs [dir]`: writes openapi.json and asyncapi.json (default dir: docs/), generated the way
 * the running system serves them: every service started, in a throwaway DATA_DIR, on a random port.
 */
const outDir = resolve(process.argv[2] ?? 'docs');
const dataDir = mkdtempSync(join(tmpdir(), 'syncopate-specs-'));
try {
  const system = await startSystem({
    config: loadConfig({ DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent' }),
    logger: createLogger({ level: 'silent' }),
    services: ALL_MODULES,
    topology: ALL_MODULES,
  });
  try {
    mkdirSync(outDir, { recursive: true });
    const write = (name: string, document: unknown) => {
      writeFileSync(join(outDir, name), `${JSON.stringify(document, null, 2)}\n`);
      process.stdout.write(`wrote ${join(outDir, name)}\n`);
    };
    write('openapi.json', system.server.swagger());
    write('asyncapi.json', asyncApiDocument(ALL_MODULES));
  } finally {
    await system.stop(2_000);
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
