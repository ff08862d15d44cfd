import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServiceProcess, startServiceProcess } from '../app/service-process.js';
import type { FaultSettingsInput } from '../platform/faults.js';
import type { Mode } from './results.js';

/**
 * Everything but email runs in the core process; email processes come and go. Both modes start
 * with three side effects (email, analytics, notifications); reports is the fourth, added in the
 * coupling scenario (async: a process of its own; sync: one more call, so it lives in the core).
 */
const CORE: Record<Mode, readonly string[]> = {
  sync: ['gateway', 'payments', 'analytics', 'notifications', 'reports'],
  async: ['gateway', 'payments', 'analytics', 'notifications'],
};

export interface LabSystemOptions {
  mode: Mode;
  /** TRANSPORT_URL of the async system (the sync one publishes nothing): default its own SQLite file. */
  transportUrl?: string;
  smtpUrl: string;
  emailProcesses: number;
  /** Receipts each email process sends at once. */
  emailConcurrency: number;
  /** Sync mode: the services called before the answer. */
  syncEffects?: readonly string[];
}

/**
 * One system under test, as separate processes on this machine: a core process (gateway,
 * payments, analytics, notifications, reports) and email processes. In sync mode payments calls
 * email (in its own process), analytics and notifications over HTTP before it answers; in async
 * mode it publishes the event and the consumers take it from the queue.
 */
export class LabSystem {
  readonly apiKey = `sk_test_${randomBytes(18).toString('base64url')}`;
  readonly adminKey = `sk_admin_${randomBytes(18).toString('base64url')}`;
  readonly dataDir = mkdtempSync(join(tmpdir(), 'syncopate-lab-'));
  core!: ServiceProcess;
  readonly emails: ServiceProcess[] = [];
  readonly others: ServiceProcess[] = [];
  private readonly emailFaults: FaultSettingsInput = {};
  private standby: Promise<ServiceProcess> | undefined;

  private constructor(readonly options: LabSystemOptions) {}

  static async start(options: LabSystemOptions): Promise<LabSystem> {
    const system = new LabSystem(options);
    await Promise.all(Array.from({ length: options.emailProcesses }, () => system.addEmail()));
    await system.startCore();
    return system;
  }

  get mode(): Mode {
    return this.options.mode;
  }

  get url(): string {
    return this.core.url;
  }

  /** Starts one more email process (in sync mode, payments keeps calling the first one). */
  async addEmail(): Promise<ServiceProcess> {
    const email = await startServiceProcess({ services: ['email'], env: this.env() });
    this.emails.push(email);
    await this.admin(email.url, 'email', this.emailFaults);
    return email;
  }

  /** Stops the newest email process gracefully (its receipts in hand finish or go back to the queue). */
  async stopEmail(): Promise<void> {
    await this.emails.pop()?.stop();
  }

  /** Kills an email process without a word (SIGKILL), as a crash does. */
  async killEmail(index: number): Promise<ServiceProcess | undefined> {
    const [email] = this.emails.splice(index, 1);
    await email?.stop('SIGKILL');
    return email;
  }

  /** Starts an email process again on a dead one's port (sync mode's payments knows only that address). */
  async restartEmail(dead: ServiceProcess): Promise<void> {
    const email = await startServiceProcess({
      services: ['email'],
      env: this.env(),
      port: Number(new URL(dead.url).port),
      ...(dead.internalUrl ? { internalPort: Number(new URL(dead.internalUrl).port) } : {}),
    });
    this.emails.unshift(email);
    await this.admin(email.url, 'email', this.emailFaults);
  }

  /** Async: starts a process of other services (a new consumer of the same events). */
  async addProcess(services: readonly string[]): Promise<void> {
    this.others.push(await startServiceProcess({ services, env: this.env() }));
  }

  /**
   * Starts a second core beside the running one (same data, same queue), e.g. with another list of
   * sync side effects, so a later `switchCore()` is instant.
   */
  prepareCore(syncEffects: readonly string[]): void {
    this.standby = this.launchCore(syncEffects);
    this.standby.catch(() => {});
  }

  /** Stops the running core; the prepared one takes its place. */
  async switchCore(): Promise<void> {
    if (!this.standby) throw new Error('no core prepared');
    const next = await this.standby;
    this.standby = undefined;
    await this.core.stop();
    this.core = next;
  }

  /** Sets email's fault knobs in every email process, now and in those started later. */
  async setEmailFaults(settings: FaultSettingsInput): Promise<void> {
    Object.assign(this.emailFaults, settings);
    await Promise.all(this.emails.map((email) => this.admin(email.url, 'email', settings)));
  }

  async get<T>(path: string): Promise<T> {
    const response = await fetch(`${this.url}${path}`, { headers: { authorization: `Bearer ${this.apiKey}` } });
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  async stop(): Promise<void> {
    const standby = await this.standby?.catch(() => undefined);
    await Promise.all([this.core?.stop(), standby?.stop(), ...[...this.emails, ...this.others].map((p) => p.stop())]);
  }

  private async startCore(): Promise<void> {
    this.core = await this.launchCore(this.options.syncEffects ?? ['email', 'analytics', 'notifications']);
  }

  private launchCore(syncEffects: readonly string[]): Promise<ServiceProcess> {
    const email = this.emails[0];
    return startServiceProcess({
      services: CORE[this.options.mode],
      env: {
        ...this.env(),
        SIDE_EFFECTS: this.options.mode,
        ...(this.options.mode === 'sync' && email
          ? { SERVICE_URLS: JSON.stringify({ email: email.internalUrl }), SYNC_EFFECTS: syncEffects.join(',') }
          : {}),
      },
    });
  }

  private env(): Record<string, string> {
    return {
      DATA_DIR: this.dataDir,
      // Sync mode's consumers serve their effect endpoints (on their internal listeners) only in sync mode.
      SIDE_EFFECTS: this.options.mode,
      // The lab is a load generator with one key: the per-key rate limit must not shape what it measures.
      RATE_LIMIT_MAX: '1000000',
      API_KEY: this.apiKey,
      ADMIN_KEY: this.adminKey,
      SMTP_URL: this.options.smtpUrl,
      LOG_LEVEL: 'error',
      // A receipt may wait out an outage: many attempts, at most a second apart.
      EMAIL_MAX_ATTEMPTS: '100',
      EMAIL_RETRY_MAX_DELAY_MS: '1000',
      // A crashed email process's receipts go to another within seconds.
      EMAIL_LEASE_MS: '1500',
      EMAIL_CONCURRENCY: String(this.options.emailConcurrency),
      SYNC_EFFECT_TIMEOUT_MS: '2000',
      ...(this.options.mode === 'async' && this.options.transportUrl
        ? { TRANSPORT_URL: this.options.transportUrl }
        : {}),
    };
  }

  private async admin(url: string, service: string, settings: FaultSettingsInput): Promise<void> {
    const response = await fetch(`${url}/v1/admin/faults/${service}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${this.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(settings),
    });
    if (!response.ok) throw new Error(`setting ${service} faults: ${response.status} ${await response.text()}`);
  }
}
