import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { openTransport, type Transport } from '../../src/messaging/index.js';
import { openSqlite } from '../../src/messaging/transports/sqlite/database.js';
import { ApiKeyStore } from '../../src/platform/auth/api-keys.js';
import { type Config, loadConfig } from '../../src/platform/config.js';
import { openServiceDatabase } from '../../src/platform/database.js';
import { Faults } from '../../src/platform/faults.js';
import { createLogger } from '../../src/platform/logger.js';
import type { ServiceContext, ServiceModule } from '../../src/platform/service.js';

export interface TestContext extends ServiceContext {
  transport: Transport;
  /** Closes the transport and every database the service opened. */
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
  const databases: Database[] = [];
  const authDb = openSqlite(join(dataDir, 'auth.db'));
  databases.push(authDb);
  const service = options.service ?? 'service';
  return {
    config,
    transport,
    keys: new ApiKeyStore(authDb),
    logger: createLogger({ level: 'silent' }),
    faults: new Faults(service),
    gatewayUrl: () => config.GATEWAY_URL ?? 'http://127.0.0.1:9',
    database: (migrations, databaseOptions) => {
      const db = openServiceDatabase(dataDir, service, migrations, databaseOptions);
      databases.push(db);
      return db;
    },
    async close() {
      await transport.close({ deadlineMs: 1_000 });
      for (const db of databases) if (db.open) db.close();
    },
  };
}
