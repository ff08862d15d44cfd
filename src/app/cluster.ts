import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { startServiceProcess } from './service-process.js';

/** One service process of a local cluster. */
export interface ClusterProcess {
  service: string;
  /** 1-based among the processes of the same service. */
  index: number;
  child: ChildProcess;
  /** The process's public HTTP address, once it is up. */
  url: string;
  /** Its internal listener, when it has internal routes (the gateway's). */
  internalUrl: string | undefined;
  exited: Promise<number | null>;
}

export interface ClusterOptions {
  /** How many processes of each service; services left out are not started. */
  processes: Record<string, number>;
  /** Environment every process gets (TRANSPORT_URL, DATABASE_URL, DATA_DIR, SMTP_URL…). */
  env: Record<string, string | undefined>;
  /** The port of the payments API; the gateway takes the next one; other processes pick free ports. */
  port: number;
  /** Where each output line goes, prefixed with its process. Default: this process's stdout. */
  output?: (line: string) => void;
}

export interface Cluster {
  processes: ClusterProcess[];
  apiKey: string;
  adminKey: string;
  /** The payments API. */
  url: string;
  /** Starts one more process of a service (a restarted or an added consumer). */
  add(service: string): Promise<ClusterProcess>;
  /** SIGTERM to every process, then waits for all to exit (SIGKILL past the deadline). */
  stop(deadlineMs?: number): Promise<void>;
}

const ORDER = ['gateway', 'payments', 'email', 'analytics', 'reports', 'notifications'];

/**
 * A local launcher: every service in processes of its own, consumer groups scaled out by starting
 * more processes of a service. They share the transport, the keys and (on one machine) DATA_DIR.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const output = options.output ?? ((line: string) => process.stdout.write(`${line}\n`));
  const apiKey = options.env.API_KEY ?? `sk_test_${randomBytes(18).toString('base64url')}`;
  const adminKey = options.env.ADMIN_KEY ?? `sk_admin_${randomBytes(18).toString('base64url')}`;
  const gatewayPort = options.port === 0 ? 0 : options.port + 1;
  const processes: ClusterProcess[] = [];
  const counts = new Map<string, number>();
  let gatewayUrl: string | undefined;

  const launch = async (service: string): Promise<ClusterProcess> => {
    const index = (counts.get(service) ?? 0) + 1;
    counts.set(service, index);
    const label = `[${service}#${index}]`;
    const started = await startServiceProcess({
      services: [service],
      port: service === 'payments' ? options.port : service === 'gateway' ? gatewayPort : 0,
      env: { ...options.env, API_KEY: apiKey, ADMIN_KEY: adminKey, ...(gatewayUrl ? { GATEWAY_URL: gatewayUrl } : {}) },
      output: (line) => output(`${label} ${line}`),
    });
    const member: ClusterProcess = {
      service,
      index,
      child: started.child,
      url: started.url,
      internalUrl: started.internalUrl,
      exited: started.exited,
    };
    processes.push(member);
    return member;
  };

  // The gateway first (payments needs the address of its internal listener), then everything else at once.
  for (let i = 0; i < (options.processes.gateway ?? 0); i++) gatewayUrl ??= (await launch('gateway')).internalUrl;
  const rest = Object.keys(options.processes)
    .filter((service) => service !== 'gateway')
    .sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b))
    .flatMap((service) => Array.from({ length: options.processes[service] ?? 0 }, () => service));
  await Promise.all(rest.map((service) => launch(service)));
  processes.sort((a, b) => ORDER.indexOf(a.service) - ORDER.indexOf(b.service) || a.index - b.index);
  const payments = processes.find((p) => p.service === 'payments');

  return {
    processes,
    apiKey,
    adminKey,
    url: payments?.url ?? '',
    add: launch,
    async stop(deadlineMs = 15_000) {
      const alive = processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
      for (const p of alive) p.child.kill('SIGTERM');
      const timer = setTimeout(() => {
        for (const p of alive) p.child.kill('SIGKILL');
      }, deadlineMs);
      await Promise.all(alive.map((p) => p.exited));
      clearTimeout(timer);
    },
  };
}
