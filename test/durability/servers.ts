/**
 * Servers of the durability run's own: each on ports and in a temporary directory of its own, so
 * killing one never touches the machine's shared servers (PostgreSQL 5432, RabbitMQ 5672, NATS
 * 4222, Redis 6379). A server runs in a process group of its own, and a kill is SIGKILL to the
 * whole group (the postmaster and its backends; RabbitMQ's start script, beam.smp and its helpers),
 * as a crash would leave it. Everything is killed when the test process exits, and `dispose`
 * removes the directory.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  accessSync,
  chownSync,
  closeSync,
  constants,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  realpathSync,
} from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';
import { serverAnswers } from '../support/availability.js';
import { waitFor } from '../support/wait.js';

export interface OwnServer {
  readonly name: string;
  /** A transport URL on this instance, in a namespace of that name (a schema, prefix or stream). */
  url(namespace: string): string;
  /** Starts the server (the first time, or again after a kill, on the same data) and waits until it answers. */
  start(): Promise<void>;
  /** SIGKILL to the server's processes; resolves once they are gone and its port is closed. */
  kill(): Promise<void>;
  /** Kills it if it runs and removes its directory. */
  dispose(): Promise<void>;
}

/** Under CI a missing binary fails the run; on a laptop its transport is skipped with a one-line reason. */
export function isCi(): boolean {
  return process.env.CI === 'true' || process.env.CI === '1';
}

/** Whether these executables exist; otherwise skips (or, under CI, fails) with the reason. */
export function requireBinaries(name: string, paths: readonly string[]): boolean {
  const missing = paths.filter((path) => {
    try {
      accessSync(path, constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return true;
  const reason = `${missing.join(', ')} not found`;
  if (isCi()) throw new Error(`${name}: ${reason}, and CI requires every durability test`);
  console.warn(`skipping the ${name} durability tests: ${reason}`);
  return false;
}

/** The version a server's binary names (`--version`, or for RabbitMQ its install path); '?' if it says none. */
export function versionOf(binary: string): string {
  let text = '';
  try {
    text = binary === RABBITMQ_SERVER ? realpathSync(binary) : execFileSync(binary, ['--version']).toString();
  } catch {
    return '?';
  }
  return /(\d+\.\d+(?:\.\d+)?)/.exec(text)?.[1] ?? '?';
}

/** A port nothing listens on now (the kernel's pick), on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

const groups = new Set<number>();
process.once('exit', () => {
  for (const group of groups) killGroup(group);
});

function killGroup(group: number): void {
  try {
    process.kill(-group, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}

interface ProcessSpec {
  name: string;
  dir: string;
  port: number;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Runs the command as this user (PostgreSQL refuses to run as root). */
  user?: string;
  /** Whether the server serves requests (not only accepts connections). */
  ready: () => Promise<boolean>;
  /** How long a start may take on a busy machine. */
  startTimeoutMs: number;
}

/** One server process (group), started and killed as often as the test asks. */
class ServerProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  readonly log: string;

  constructor(private readonly spec: ProcessSpec) {
    this.log = join(spec.dir, 'server.log');
  }

  async start(): Promise<void> {
    if (this.child) throw new Error(`${this.spec.name} is already running`);
    const { command, args, user } = this.spec;
    const logFd = openSync(this.log, 'a');
    const child = spawn(user ? RUNUSER : command, user ? ['-u', user, '--', command, ...args] : args, {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env: { ...process.env, ...this.spec.env },
    });
    closeSync(logFd);
    const pid = child.pid;
    if (pid === undefined) throw new Error(`${this.spec.name} did not start (${command})`);
    groups.add(pid);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let gone = false;
    void this.exited.then(() => {
      gone = true;
    });
    try {
      await waitFor(
        `${this.spec.name} to answer on port ${this.spec.port}`,
        async () => {
          if (gone) throw new Error(`${this.spec.name} exited while starting`);
          return (await serverAnswers(this.spec.port, 500)) && (await this.spec.ready());
        },
        this.spec.startTimeoutMs,
        100,
      );
    } catch (error) {
      const tail = (await readFile(this.log, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
      await this.kill();
      throw new Error(`${(error as Error).message}; the end of ${this.log}:\n${tail}`);
    }
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    const group = child.pid;
    killGroup(group);
    await this.exited;
    // The leader's exit is not the group's: wait until every process of it is gone and the port is free.
    await waitFor(`${this.spec.name}'s processes to exit`, () => !groupAlive(group), 30_000);
    await waitFor(`port ${this.spec.port} to close`, async () => !(await serverAnswers(this.spec.port, 200)), 30_000);
    groups.delete(group);
    this.child = undefined;
  }
}

function tempDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `syncopate-durability-${name}-`));
}

// ---- PostgreSQL ----

/** The newest /usr/lib/postgresql/<version>/bin (Debian's layout), or that of 15 to name in the skip reason. */
export function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = readdirSync(root).filter((v) => /^\d+$/.test(v));
  } catch {
    // No PostgreSQL here.
  }
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0] ?? '15';
  return join(root, newest, 'bin');
}

/** Runs a command as another user: PostgreSQL refuses to run as root. */
export const RUNUSER = '/usr/sbin/runuser';

function userExists(user: string): boolean {
  try {
    execFileSync('id', ['-u', user], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * PostgreSQL with its defaults written out (`fsync=on`, `synchronous_commit=on`): a commit
 * returns once its WAL is flushed to disk. As root it runs as the `postgres` user.
 */
export async function postgresServer(): Promise<OwnServer> {
  const bin = postgresBin();
  const dir = tempDir('postgres');
  const data = join(dir, 'data');
  const port = await freePort();
  let user: string | undefined;
  if (process.getuid?.() === 0) {
    if (!userExists('postgres')) throw new Error('PostgreSQL refuses to run as root, and there is no postgres user');
    user = 'postgres';
    const uid = Number(execFileSync('id', ['-u', user]).toString());
    const gid = Number(execFileSync('id', ['-g', user]).toString());
    chownSync(dir, uid, gid);
  }
  const asUser = (command: string, args: string[]) =>
    user ? execFileSync(RUNUSER, ['-u', user, '--', command, ...args]) : execFileSync(command, args);
  asUser(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const server = new ServerProcess({
    name: 'postgres',
    dir,
    port,
    user,
    command: join(bin, 'postgres'),
    args: [
      ...['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`],
      ...['-c', 'fsync=on', '-c', 'synchronous_commit=on', '-c', 'full_page_writes=on', '-c', 'max_connections=60'],
    ],
    startTimeoutMs: 120_000,
    ready: async () => {
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } catch {
        return false;
      } finally {
        await client.end().catch(() => {});
      }
    },
  });
  return serverOf(
    'postgres',
    (ns) => `postgres://postgres@127.0.0.1:${port}/postgres?schema=${ns}&poll=100`,
    dir,
    server,
  );
}

// ---- RabbitMQ ----

export const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';

/**
 * A RabbitMQ node of its own name, ports, data and log directories, cookie (its own HOME) and
 * config (AMQP on 127.0.0.1 only, no plugins); the machine's rabbitmq-env.conf is not read.
 * The transport's queues are quorum queues: a publish is confirmed once written and fsynced.
 */
export async function rabbitmqServer(): Promise<OwnServer> {
  const dir = tempDir('rabbitmq');
  const [port, distPort] = [await freePort(), await freePort()];
  for (const sub of ['mnesia', 'log', 'home']) mkdirSync(join(dir, sub));
  await writeFile(join(dir, 'enabled_plugins'), '[].\n');
  await writeFile(join(dir, 'rabbitmq-env.conf'), '');
  await writeFile(join(dir, 'rabbitmq.conf'), `listeners.tcp.local = 127.0.0.1:${port}\n`);
  const url = `amqp://guest:guest@127.0.0.1:${port}`;
  const server = new ServerProcess({
    name: 'rabbitmq',
    dir,
    port,
    command: RABBITMQ_SERVER,
    args: [],
    env: {
      HOME: join(dir, 'home'),
      RABBITMQ_NODENAME: `durability-${process.pid}@localhost`,
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
      RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    },
    startTimeoutMs: 180_000,
    ready: async () => {
      try {
        const connection = await amqp.connect(url);
        connection.on('error', () => {});
        await connection.close();
        return true;
      } catch {
        return false;
      }
    },
  });
  return serverOf('rabbitmq', (ns) => `${url}?prefix=${ns}`, dir, server);
}

// ---- NATS ----

export const NATS_SERVER = '/usr/sbin/nats-server';

/** nats-server with JetStream's file storage in its own directory, on 127.0.0.1 only. */
export async function natsServer(): Promise<OwnServer> {
  const dir = tempDir('nats');
  const port = await freePort();
  const server = new ServerProcess({
    name: 'nats',
    dir,
    port,
    command: NATS_SERVER,
    args: ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'store')],
    startTimeoutMs: 60_000,
    ready: async () => {
      try {
        const nc = await connectNats({ servers: `127.0.0.1:${port}`, reconnect: false, timeout: 1_000 });
        try {
          await (await jetstreamManager(nc)).getAccountInfo();
          return true;
        } finally {
          await nc.close();
        }
      } catch {
        return false;
      }
    },
  });
  return serverOf('nats', (ns) => `nats://127.0.0.1:${port}?stream=${ns}`, dir, server);
}

// ---- Redis ----

export const REDIS_SERVER = '/usr/bin/redis-server';

/** Redis with its append-only file fsynced before every reply (`appendfsync always`), on 127.0.0.1 only. */
export async function redisServer(): Promise<OwnServer> {
  const dir = tempDir('redis');
  const port = await freePort();
  const server = new ServerProcess({
    name: 'redis',
    dir,
    port,
    command: REDIS_SERVER,
    args: [
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no'],
      ...['--appendonly', 'yes', '--appendfsync', 'always', '--save', ''],
    ],
    startTimeoutMs: 60_000,
    ready: async () => {
      const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
      redis.on('error', () => {});
      try {
        await redis.connect();
        // PING answers LOADING while the append-only file is replayed.
        return (await redis.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        redis.disconnect();
      }
    },
  });
  return serverOf('redis', (ns) => `redis://127.0.0.1:${port}?prefix=${ns}`, dir, server);
}

function serverOf(name: string, url: (namespace: string) => string, dir: string, server: ServerProcess): OwnServer {
  return {
    name,
    url,
    start: () => server.start(),
    kill: () => server.kill(),
    async dispose() {
      await server.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
