import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServiceProcess, startServiceProcess } from '../app/service-process.js';
import type { FaultSettingsInput } from '../platform/faults.js';
import type { ProcessGroups } from './machine.js';
import type { Mode } from './results.js';

/**
 * The processes of one system under test. Both modes run the same layout, so neither has more
 * processes than the other: what differs is only how payments reaches the side effects.
 */
const ROLES = {
  /** The request path: what the client waits for in both modes. */
  core: ['gateway', 'payments'],
  effects: ['analytics', 'notifications'],
  /** Apart, so the coupling scenario can take the fourth side effect away. */
  reports: ['reports'],
  /** One or more: the scalability and crash scenarios add, stop and kill them. */
  email: ['email'],
} as const;
type Role = keyof typeof ROLES;

/** In sync mode, the services payments calls before it answers: all four side effects. */
export const SIDE_EFFECTS = ['email', 'analytics', 'notifications', 'reports'] as const;

export interface LabSystemOptions {
  mode: Mode;
  /** TRANSPORT_URL of the async system (the sync one publishes no payment events): default its own SQLite file. */
  transportUrl?: string;
  smtpUrl: string;
  /** Receipts each email process sends at once. */
  emailConcurrency: number;
}

/** A running process of a system, with its role. */
interface Member {
  role: Role;
  process: ServiceProcess;
}

/**
 * One system under test, as separate processes on this machine: the core (gateway and payments),
 * the effects (analytics, notifications), reports, and one or more email processes. In sync mode
 * payments calls email, analytics, notifications and reports over HTTP before it answers; in async
 * mode it publishes the event and they take it from the queue.
 *
 * Every process the lab starts is started here (`launch`), with the environment built in one place
 * (`env`): what a change to how services start, listen or authenticate needs to adapt.
 */
export class LabSystem {
  readonly apiKey = `sk_test_${secret()}`;
  readonly adminKey = `sk_admin_${secret()}`;
  /** The secrets the services present to each other: generated, never a default. */
  private readonly internalKey = `internal_${secret()}`;
  private readonly gatewayKey = `gw_${secret()}`;
  readonly dataDir = mkdtempSync(join(tmpdir(), 'syncopate-lab-'));
  private members: Member[] = [];
  private readonly emailFaults: FaultSettingsInput = {};
  private standby: Promise<ServiceProcess> | undefined;
  /** Consumer groups whose consumers are stopped on purpose: their queues fill, and that is expected. */
  readonly pausedGroups = new Set<string>();

  private constructor(readonly options: LabSystemOptions) {}

  static async start(options: LabSystemOptions): Promise<LabSystem> {
    const system = new LabSystem(options);
    const addCore = async () => system.members.push({ role: 'core', process: await system.launchCore(SIDE_EFFECTS) });
    const others = Promise.all([system.addEmail(), system.launch('effects'), system.launch('reports')]);
    // The sync core needs the others' addresses; the async one only the queue they share.
    if (options.mode === 'sync') await others.then(addCore);
    else await Promise.all([others, addCore()]);
    return system;
  }

  get mode(): Mode {
    return this.options.mode;
  }

  /** The payments API. */
  get url(): string {
    return this.only('core').url;
  }

  /** The base URL of the process that runs `service`. */
  urlOf(service: 'analytics' | 'reports'): string {
    return this.only(service === 'analytics' ? 'effects' : 'reports').url;
  }

  get emailCount(): number {
    return this.of('email').length;
  }

  /** The processes as they run now: role and services, for the report. */
  describe(): { role: string; services: string[] }[] {
    return this.members.map((m) => ({ role: m.role, services: [...ROLES[m.role]] }));
  }

  /** Process ids: the request path's and the side effects', for the CPU figures. */
  pids(): ProcessGroups {
    const pidsOf = (members: Member[]) => members.flatMap((m) => (m.process.child.pid ? [m.process.child.pid] : []));
    return {
      requestPath: pidsOf(this.members.filter((m) => m.role === 'core')),
      sideEffects: pidsOf(this.members.filter((m) => m.role !== 'core')),
    };
  }

  /** Starts one more email process (in sync mode payments keeps calling the first). */
  async addEmail(): Promise<void> {
    const email = await this.launch('email');
    await this.setFaults(email.url, 'email', this.emailFaults);
  }

  /** Stops the newest email process gracefully (its receipts in hand finish or go back to the queue). */
  async stopEmail(): Promise<void> {
    const newest = this.of('email').at(-1);
    if (newest) await this.remove(newest).stop();
  }

  /** Kills the oldest email process without a word (SIGKILL), as a crash does. */
  async killEmail(): Promise<void> {
    const oldest = this.of('email')[0];
    if (oldest) await this.remove(oldest).stop('SIGKILL');
  }

  /** Async: stops the reports process, the fourth side effect; its events wait in its queues. */
  async stopReports(): Promise<void> {
    const reports = this.of('reports')[0];
    if (!reports) return;
    await this.remove(reports).stop();
    for (const group of ['reports-ledger', 'reports']) this.pausedGroups.add(group);
  }

  /**
   * Sync: starts a second core beside the running one (same data) that calls only `effects`, so a
   * later `switchCore()` is instant; resolves once it is up.
   */
  async prepareCore(effects: readonly string[]): Promise<void> {
    this.standby = this.launchCore(effects);
    await this.standby;
  }

  /** Stops the running core; the prepared one takes its place. */
  async switchCore(): Promise<void> {
    if (!this.standby) throw new Error('no core prepared');
    const next = await this.standby;
    this.standby = undefined;
    const core = this.members.find((m) => m.role === 'core');
    if (core) await this.remove(core.process).stop();
    this.members.push({ role: 'core', process: next });
  }

  /** Sets email's fault knobs in every email process, now and in those started later. */
  async setEmailFaults(settings: FaultSettingsInput): Promise<void> {
    Object.assign(this.emailFaults, settings);
    await Promise.all(this.of('email').map((email) => this.setFaults(email.url, 'email', settings)));
  }

  async get<T>(path: string, options: { base?: string; admin?: boolean } = {}): Promise<T> {
    const response = await fetch(`${options.base ?? this.url}${path}`, {
      headers: { authorization: `Bearer ${options.admin ? this.adminKey : this.apiKey}` },
    });
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  async post<T>(path: string, body: unknown, base = this.url): Promise<T> {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  /** Stops every process, then removes the system's data (its databases, its queue). */
  async stop(): Promise<void> {
    const standby = await this.standby?.catch(() => undefined);
    await Promise.all([standby?.stop(), ...this.members.map((m) => m.process.stop())]);
    this.members = [];
    await rm(this.dataDir, { recursive: true, force: true });
  }

  private of(role: Role): ServiceProcess[] {
    return this.members.filter((m) => m.role === role).map((m) => m.process);
  }

  private only(role: Role): ServiceProcess {
    const found = this.of(role)[0];
    if (!found) throw new Error(`the ${this.mode} system has no ${role} process running`);
    return found;
  }

  private remove(member: ServiceProcess): ServiceProcess {
    this.members = this.members.filter((m) => m.process !== member);
    return member;
  }

  /** Starts a process of `role` and adds it to the system. */
  private async launch(role: Exclude<Role, 'core'>): Promise<ServiceProcess> {
    const started = await startProcess(ROLES[role], this.env());
    this.members.push({ role, process: started });
    return started;
  }

  /** Starts a core (not yet a member); in sync mode it calls `effects` in the processes running them. */
  private launchCore(effects: readonly string[]): Promise<ServiceProcess> {
    const sync: Record<string, string> =
      this.mode === 'sync'
        ? {
            SYNC_EFFECTS: effects.join(','),
            // The effect endpoints are on each process's internal listener.
            SERVICE_URLS: JSON.stringify({
              email: this.only('email').internalUrl,
              analytics: this.only('effects').internalUrl,
              notifications: this.only('effects').internalUrl,
              reports: this.only('reports').internalUrl,
            }),
          }
        : {};
    return startProcess(ROLES.core, { ...this.env(), ...sync });
  }

  private env(): Record<string, string> {
    return {
      DATA_DIR: this.dataDir,
      // Every process: in sync mode the side effects' processes serve their effect endpoints.
      SIDE_EFFECTS: this.mode,
      // The lab is a load generator with one key: the per-key rate limit must not shape what it measures.
      RATE_LIMIT_MAX: '10000000',
      API_KEY: this.apiKey,
      ADMIN_KEY: this.adminKey,
      INTERNAL_KEY: this.internalKey,
      GATEWAY_KEY: this.gatewayKey,
      SMTP_URL: this.options.smtpUrl,
      LOG_LEVEL: 'error',
      // A receipt may wait out an outage: many attempts, at most a second apart.
      EMAIL_MAX_ATTEMPTS: '100',
      EMAIL_RETRY_MAX_DELAY_MS: '1000',
      // A crashed email process's receipts go to another within seconds.
      EMAIL_LEASE_MS: '1500',
      EMAIL_CONCURRENCY: String(this.options.emailConcurrency),
      SYNC_EFFECT_TIMEOUT_MS: String(SYNC_CALL_TIMEOUT_MS),
      ...(this.mode === 'async' && this.options.transportUrl ? { TRANSPORT_URL: this.options.transportUrl } : {}),
    };
  }

  private async setFaults(url: string, service: string, settings: FaultSettingsInput): Promise<void> {
    const response = await fetch(`${url}/v1/admin/faults/${service}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${this.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(settings),
    });
    if (!response.ok) throw new Error(`setting ${service} faults: ${response.status} ${await response.text()}`);
  }
}

/**
 * Starts `syncopate serve <services>`. A process that dies before it is up is started once more:
 * processes starting together on a fresh data directory race to store the keys there, and the one
 * that loses finds them stored the second time. If it dies again, the error carries its last words.
 */
async function startProcess(services: readonly string[], env: Record<string, string>): Promise<ServiceProcess> {
  for (let attempt = 1; ; attempt++) {
    const lines: string[] = [];
    try {
      return await startServiceProcess({
        services,
        env,
        output: (line) => {
          lines.push(line);
          if (lines.length > 20) lines.shift();
        },
      });
    } catch (error) {
      if (attempt < 2) continue;
      throw new Error(`${(error as Error).message}:\n${lines.join('\n')}`);
    }
  }
}

/** In sync mode, each call's timeout. */
export const SYNC_CALL_TIMEOUT_MS = 2_000;

const secret = () => randomBytes(18).toString('base64url');
