import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeliveryJournal, openTransport, type Transport } from '@syncopate/messaging';
import { openSqlite } from '@syncopate/transport-sqlite';
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { ApiKeyStore } from '../../src/platform/auth/api-keys.js';
import { resolveSecrets, SecretStore } from '../../src/platform/auth/secrets.js';
import { type Config, loadConfig } from '../../src/platform/config.js';
import { Faults } from '../../src/platform/faults.js';
import { createLogger } from '../../src/platform/logger.js';
import { ObservedTransport } from '../../src/platform/observed-transport.js';
import type { ServiceContext, ServiceModule } from '../../src/platform/service.js';
import { ServiceResources } from '../../src/platform/service-resources.js';
import { groupsByEventType, journalSideEffects } from '../../src/platform/side-effects.js';
import { attemptLogHooks } from '../../src/platform/telemetry/attempt-log.js';
import '../../src/app/transports.js';

export interface TestContext extends ServiceContext {
  transport: Transport;
  /** Starts the outbox relays of the databases the service opened (the composition root does it at start). */
  startRelays(): void;
  /** Closes the relays, the transport and every database the service opened. */
  close(): Promise<void>;
}

/**
 * A real context for one service under test: its own temporary DATA_DIR, a real transport
 * (SQLite by default), a key store, and the groups of `topology` declared.
 */
export async function createTestContext(
  options: {
    env?: Record<string, string>;
    transportUrl?: string;
    topology?: readonly ServiceModule[];
    service?: string;
    /** The service's logger; also where the attempt log goes. Default silent. */
    logger?: Logger;
  } = {},
): Promise<TestContext> {
  const dataDir = mkdtempSync(join(tmpdir(), 'syncopate-service-'));
  const config: Config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...options.env });
  const transport = await openTransport(options.transportUrl ?? config.TRANSPORT_URL);
  for (const module of options.topology ?? []) {
    for (const { group, events } of module.groups)
      await transport.declareGroup(
        group,
        events.map((e) => e.type),
      );
  }
  const logger = options.logger ?? createLogger({ level: 'silent' });
  const resources = new ServiceResources({ config, transport, logger });
  const authDb: Database = openSqlite(join(dataDir, 'auth.db'));
  const service = options.service ?? 'service';
  const journal = await DeliveryJournal.open(await resources.database('journal', []));
  // As the composition root does: every subscription reports to the attempt log and the journal.
  const observed = new ObservedTransport(transport, [attemptLogHooks(logger), journal.hooks()], journal);
  const groupsByType = groupsByEventType(options.topology ?? []);

  return {
    config,
    transport: observed,
    keys: new ApiKeyStore(authDb),
    secrets: resolveSecrets(config, new SecretStore(authDb)),
    logger,
    faults: new Faults(service),
    serviceUrl: (name) =>
      (name === 'gateway' ? config.GATEWAY_URL : undefined) ?? config.SERVICE_URLS[name] ?? 'http://127.0.0.1:9',
    database: (migrations, databaseOptions) => resources.database(service, migrations, databaseOptions),
    outbox: (db) => resources.outbox(service, db),
    metrics: new Registry(),
    sideEffects: journalSideEffects(journal, (type) => groupsByType.get(type) ?? []),
    startRelays: () => resources.startRelays(),
    async close() {
      await resources.close();
      await transport.close({ deadlineMs: 1_000 });
      if (authDb.open) authDb.close();
    },
  };
}
