/**
 * The packages as a team outside this repository gets them: every workspace package is packed
 * (`npm pack`, which builds it), the tarballs are installed with plain npm into scratch projects
 * in the system's temporary folder, and everything there runs with plain node, no loader.
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = resolve('.');
const FIXTURES = join(REPO, 'test/packages/scratch');
const PACKAGES = [
  'messaging',
  'transport-sqlite',
  'transport-postgres',
  'transport-rabbitmq',
  'transport-nats',
  'transport-redis',
];
const BROKER_CLIENTS = ['pg', 'amqplib', 'ioredis', '@nats-io/transport-node', '@nats-io/jetstream', 'better-sqlite3'];
const TYPES_NODE = JSON.parse(readFileSync('node_modules/@types/node/package.json', 'utf8')).version as string;

/**
 * A clean environment: nothing of this repository's test setup (NODE_OPTIONS points node at the
 * packages' TypeScript sources) nor of the npm that may be running the tests (npm_config_*).
 */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => name !== 'NODE_OPTIONS' && !/^npm_/i.test(name)),
  );
}

async function sh(command: string, args: string[], cwd: string, timeout = 300_000) {
  try {
    return await run(command, args, { cwd, env: cleanEnv(), timeout, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

/** A project of its own under the system's temporary folder: no workspace, no node_modules above it. */
function scratchProject(name: string, extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), `syncopate-${name}-`));
  made.push(dir);
  expect(relative(REPO, dir).startsWith('..')).toBe(true);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module', ...extra }, null, 2));
  return dir;
}

/** Every file under `dir` whose name ends with `.node`: compiled native modules. */
function nativeModules(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.node'));
}

const tarballs = new Map<string, string>();
const made: string[] = [];
let full = '';

describe('the packages, packed and installed outside the workspace', () => {
  beforeAll(async () => {
    const packed = mkdtempSync(join(tmpdir(), 'syncopate-tarballs-'));
    made.push(packed);
    for (const name of PACKAGES) {
      const { stdout } = await sh(
        'npm',
        ['pack', '--json', '--pack-destination', packed],
        join(REPO, 'packages', name),
      );
      const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
      tarballs.set(name, join(packed, filename));
    }
    // One install serves the three checks below. better-sqlite3 compiles (about 80 s where no
    // prebuilt binary exists); this npm runs install scripts only for packages in allowScripts.
    full = scratchProject('scratch', { allowScripts: { 'better-sqlite3': true } });
    await sh(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', `@types/node@${TYPES_NODE}`, ...tarballs.values()],
      full,
      900_000,
    );
    for (const file of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, file), join(full, file));
  }, 1_200_000);

  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });

  it('publishes and consumes 1,000 events over @syncopate/transport-sqlite, each handled once', async () => {
    mkdirSync(join(full, 'data'), { recursive: true });
    const { stdout } = await sh('node', ['publish-consume.mjs', join(full, 'data/queue.db')], full, 120_000);
    expect(JSON.parse(stdout)).toEqual({ published: 1_000, handled: 1_000, twice: 0, missing: 0 });
    // It ran the installed, built JavaScript.
    const resolved = createRequire(join(full, 'x.js')).resolve('@syncopate/transport-sqlite/package.json');
    expect(resolved).toBe(join(full, 'node_modules/@syncopate/transport-sqlite/package.json'));
    expect(existsSync(join(full, 'node_modules/@syncopate/transport-sqlite/dist/sqlite-driver.js'))).toBe(true);
  });

  it('type-checks an example against the shipped declarations', async () => {
    // This repository's compiler: what it checks is what the scratch project installed.
    const typescript = createRequire(import.meta.url).resolve('typescript/package.json');
    const { bin } = JSON.parse(readFileSync(typescript, 'utf8')) as { bin: { tsc: string } };
    const tsc = join(typescript, '..', bin.tsc);
    const { stdout } = await sh('node', [tsc, '-p', 'tsconfig.json'], full);
    expect(stdout).toBe('');
    // The declarations came from the tarballs, beside their JavaScript.
    expect(readFileSync(join(full, 'node_modules/@syncopate/messaging/dist/index.d.ts'), 'utf8')).toContain(
      'openTransport',
    );
  });

  it('runs the contract suite from @syncopate/messaging/testing against a driver of its own, under node --test', async () => {
    const { stdout } = await sh('node', ['--test', '--test-reporter=tap', 'contract.test.mjs'], full, 300_000);
    const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(stdout)?.[1]);
    expect(count('fail')).toBe(0);
    expect(count('pass')).toBeGreaterThanOrEqual(20);
    expect(stdout).toContain('transport contract: counting-memory');
  });

  it('installs @syncopate/messaging alone with no broker client and no native module', async () => {
    const core = scratchProject('core-only');
    await sh(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', tarballs.get('messaging') as string],
      core,
    );
    const installed = readdirSync(join(core, 'node_modules'), { recursive: true, encoding: 'utf8' })
      .filter((path) => path.endsWith('package.json'))
      .map((path) => JSON.parse(readFileSync(join(core, 'node_modules', path), 'utf8')) as { name?: string })
      .map((pkg) => pkg.name);
    expect(installed).toContain('@syncopate/messaging');
    expect(installed).toContain('zod'); // its peer dependencies come along
    for (const client of BROKER_CLIENTS) expect(installed).not.toContain(client);
    expect(nativeModules(join(core, 'node_modules'))).toEqual([]);
    // The full install, by contrast, did bring one in: the check above would have seen it.
    expect(nativeModules(join(full, 'node_modules')).some((file) => file.includes('better-sqlite3'))).toBe(true);
    const { stdout } = await sh('node', ['--input-type=module', '-e', CORE_ONLY_SCRIPT], core);
    expect(stdout.trim()).toBe('memory: ok');
  });
});

/** What a service that installed only the core can do: the memory transport, by URL. */
const CORE_ONLY_SCRIPT = `
import { createEvent, defineEvent, openTransport } from '@syncopate/messaging';
import { z } from 'zod';
const Pinged = defineEvent({ type: 'health.pinged', version: 1, schema: z.object({}) });
const transport = await openTransport('memory:');
let heard;
const got = new Promise((resolve) => { heard = resolve; });
await transport.subscribe({ group: 'g', events: [Pinged], handler: () => heard() });
await transport.publish(createEvent(Pinged, {}, { source: 'urn:core-only' }));
await got;
await transport.close();
console.log('memory: ok');
`;
