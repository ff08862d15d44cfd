import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { deleteNamespace, Names } from '@syncopate/transport-rabbitmq';
import amqp from 'amqplib';
import { ALL_MODULES } from '../../src/app/modules.js';
import { dropSchemas, serverAnswers } from '../support/availability.js';
import { delay, waitFor } from '../support/wait.js';

const run = promisify(execFile);

/** A broker these tests may stop and start: the machine's own, or one started for the test. */
export interface RestartableServer {
  name: string;
  /** A TRANSPORT_URL on a namespace of its own. */
  transportUrl(): string;
  /** Stops the server, keeps it down for `downMs`, starts it again and waits until it answers. */
  restart(downMs: number): Promise<void>;
  dispose(): Promise<void>;
}

async function waitDown(port: number): Promise<void> {
  await waitFor(`port ${port} to close`, async () => !(await serverAnswers(port, 200)), 60_000);
}

async function waitUp(port: number): Promise<void> {
  await waitFor(`port ${port} to answer`, () => serverAnswers(port, 500), 120_000);
}

/** The machine's PostgreSQL, restarted with pg_ctlcluster (the queue tables are on disk). */
export function postgres(): RestartableServer {
  let n = 0;
  return {
    name: 'postgres',
    transportUrl: () => `postgres://postgres@127.0.0.1:5432/test?schema=t_restart_${process.pid}_${n++}&poll=100`,
    async restart(downMs) {
      const version = (await run('ls', ['/etc/postgresql'])).stdout.trim().split('\n')[0] ?? '15';
      await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'stop', '--', '-m', 'fast']);
      await waitDown(5432);
      await delay(downMs);
      await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']);
      await waitUp(5432);
    },
    dispose: () => dropSchemas('postgres://postgres@127.0.0.1:5432/test', `t_restart_${process.pid}_`),
  };
}

/** The machine's RabbitMQ: the broker application stopped and started (quorum queues are on disk). */
export function rabbitmq(): RestartableServer {
  let n = 0;
  return {
    name: 'rabbitmq',
    transportUrl: () => `amqp://guest:guest@127.0.0.1:5672?prefix=restart-${process.pid}-${n++}`,
    async restart(downMs) {
      await run('rabbitmqctl', ['stop_app']);
      await waitDown(5672);
      await delay(downMs);
      await run('rabbitmqctl', ['start_app']);
      await waitUp(5672);
    },
    async dispose() {
      const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
      connection.on('error', () => {});
      const groups = ALL_MODULES.flatMap((m) => m.groups.map((g) => g.group));
      for (let i = 0; i < n; i++) await deleteNamespace(connection, new Names(`restart-${process.pid}-${i}`), groups);
      await connection.close();
    },
  };
}

/** The machine's NATS, killed and started again with its JetStream store (file storage) kept. */
export function nats(): RestartableServer {
  let n = 0;
  return {
    name: 'nats',
    transportUrl: () => `nats://127.0.0.1:4222?stream=RESTART-${process.pid}-${n++}`,
    async restart(downMs) {
      await run('pkill', ['-TERM', '-x', 'nats-server']).catch(() => {});
      await waitDown(4222);
      await delay(downMs);
      await run('start-stop-daemon', [
        '--start',
        '--oknodo',
        '--background',
        '--exec',
        '/usr/sbin/nats-server',
        '--',
        '-a',
        '127.0.0.1',
        '-p',
        '4222',
        '-js',
        '-sd',
        '/var/lib/nats-server',
        '-l',
        '/var/log/nats-server.log',
      ]);
      await waitUp(4222);
    },
    async dispose() {
      const nc = await connect({ servers: '127.0.0.1:4222' });
      const jsm = await jetstreamManager(nc);
      for await (const name of jsm.streams.names()) {
        if (name.startsWith(`RESTART-${process.pid}-`)) await jsm.streams.delete(name);
      }
      await nc.close();
    },
  };
}

/**
 * A Redis of the test's own, with AOF and `appendfsync always`: the machine's Redis keeps nothing
 * on disk, so restarting it would prove only that an in-memory server forgets (the README says so).
 */
export async function redisWithAof(): Promise<RestartableServer> {
  const port = 16_379 + (process.pid % 1_000);
  const dir = mkdtempSync(join(tmpdir(), 'syncopate-redis-aof-'));
  const start = async () => {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--dir',
        dir,
        '--daemonize',
        'yes',
      ],
      { stdio: 'ignore' },
    );
    await new Promise((resolve) => child.once('exit', resolve));
    await waitUp(port);
  };
  const stop = async () => {
    await run('redis-cli', ['-p', String(port), 'shutdown']).catch(() => {});
    await waitDown(port);
  };
  await start();
  let n = 0;
  return {
    name: 'redis (AOF, appendfsync always)',
    transportUrl: () => `redis://127.0.0.1:${port}?prefix=restart-${n++}`,
    async restart(downMs) {
      await stop();
      await delay(downMs);
      await start();
    },
    dispose: stop,
  };
}
