import { startCluster } from '../app/cluster.js';

export interface ClusterCommandOptions {
  transport?: string;
  database?: string;
  port: number;
  email: number;
  analytics: number;
  reports: number;
  notifications: number;
}

/** `syncopate cluster`: starts the processes, prints where they are, stops them all on Ctrl-C. */
export async function runCluster(options: ClusterCommandOptions): Promise<void> {
  const cluster = await startCluster({
    port: options.port,
    env: {
      // Keys the caller chose are every process's keys; otherwise the cluster makes a pair.
      ...(process.env.API_KEY ? { API_KEY: process.env.API_KEY } : {}),
      ...(process.env.ADMIN_KEY ? { ADMIN_KEY: process.env.ADMIN_KEY } : {}),
      ...(options.transport ? { TRANSPORT_URL: options.transport } : {}),
      ...(options.database ? { DATABASE_URL: options.database } : {}),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    },
    processes: {
      gateway: 1,
      payments: 1,
      email: options.email,
      analytics: options.analytics,
      reports: options.reports,
      notifications: options.notifications,
    },
    output: (line) => {
      // The per-process banners repeat what the summary below says once.
      if (/"level":/.test(line)) process.stdout.write(`${line}\n`);
    },
  });
  process.stdout.write(
    [
      '',
      `Syncopate cluster: payments API at ${cluster.url}`,
      ...cluster.processes.map(
        (p) =>
          `  ${`${p.service}#${p.index}`.padEnd(18)} pid ${p.child.pid}  ${p.url}${p.internalUrl ? `  (internal ${p.internalUrl})` : ''}`,
      ),
      `API key: ${cluster.apiKey}`,
      `Admin key: ${cluster.adminKey}`,
      'Press Ctrl-C to stop every process (each finishes its in-flight work first).',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await cluster.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
