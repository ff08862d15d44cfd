import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * `npm run lint` (biome check) holds the packages' boundaries: these files, linted with the
 * project's own biome.json at the paths named, must be refused (or passed) with the reason given.
 */
const refused = {
  'packages/messaging/src/core-imports-a-transport.ts': ['@syncopate/transport-sqlite', 'imports no transport'],
  'packages/messaging/src/core-imports-a-client.ts': ['pg', 'imports no transport'],
  'packages/messaging/src/testing/core-imports-a-native-module.ts': ['better-sqlite3', 'imports no transport'],
  'packages/messaging/src/core-reaches-into-a-transport.ts': [
    '../../transport-sqlite/src/index.js',
    'leaves its package',
  ],
  'packages/messaging/src/testing/core-imports-the-app.ts': [
    '../../../../src/platform/config.js',
    'leaves its package',
  ],
  'packages/transport-nats/src/transport-reaches-into-core.ts': [
    '../../messaging/src/envelope.js',
    'leaves its package',
  ],
  'packages/transport-nats/test/test-reaches-into-another-package.ts': ['../../transport-redis/src/keys.js', 'leaves'],
  'src/app/app-reaches-into-a-package.ts': ['../../packages/messaging/src/envelope.js', 'a deep import'],
  'src/app/app-names-a-private-path.ts': ['@syncopate/messaging/src/envelope.js', 'a deep import'],
  'test/app/test-reaches-into-a-package.ts': ['../../packages/transport-sqlite/src/wal-sync.js', 'a deep import'],
} as const;
const allowed = {
  'src/app/by-public-name.ts': '@syncopate/messaging',
  'src/app/by-public-entry.ts': '@syncopate/transport-sqlite/register',
  'packages/transport-nats/src/driver-kit.ts': '@syncopate/messaging/driver',
  'packages/transport-nats/test/own-internals.ts': '../src/keys.js',
  'packages/transport-nats/test/repo-test-support.ts': '../../../test/support/wait.js',
  'packages/messaging/src/testing/own-package.ts': '../index.js',
};

interface Diagnostic {
  message: string;
  category: string;
  location: { path: string };
}

describe('import boundaries (npm run lint)', () => {
  it('refuses a deep import into a package, and core importing a transport, a client or the app', async () => {
    const root = mkdtempSync(join(tmpdir(), 'syncopate-boundaries-'));
    copyFileSync('biome.json', join(root, 'biome.json'));
    const write = (file: string, specifier: string) => {
      mkdirSync(dirname(join(root, file)), { recursive: true });
      writeFileSync(join(root, file), `import * as m from '${specifier}';\nexport { m };\n`);
    };
    for (const [file, [specifier]] of Object.entries(refused)) write(file, specifier);
    for (const [file, specifier] of Object.entries(allowed)) write(file, specifier);

    const biome = createRequire(import.meta.url).resolve('@biomejs/biome/bin/biome');
    const lint = await promisify(execFile)(process.execPath, [biome, 'lint', '--reporter=json', '.'], {
      cwd: root,
    }).then(
      (done) => done.stdout,
      (failed: { stdout: string }) => failed.stdout, // exits non-zero: that is the point
    );
    const diagnostics = (JSON.parse(lint) as { diagnostics: Diagnostic[] }).diagnostics.filter(
      (d) => d.category === 'lint/style/noRestrictedImports',
    );
    const reasons = new Map(diagnostics.map((d) => [d.location.path, d.message]));
    for (const [file, [, reason]] of Object.entries(refused)) expect(reasons.get(file), file).toContain(reason);
    for (const file of Object.keys(allowed)) expect(reasons.get(file), file).toBeUndefined();
    expect(reasons.size).toBe(Object.keys(refused).length);
  });
});
