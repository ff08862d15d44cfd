import { join } from 'node:path';
import { openSqlite } from '@syncopate/transport-sqlite';
import { ApiKeyStore, type KeyRole } from '../platform/auth/api-keys.js';
import { loadConfig } from '../platform/config.js';

export function createKey(options: { role: KeyRole }): void {
  const config = loadConfig();
  const db = openSqlite(join(config.dataDir, 'auth.db'));
  const key = new ApiKeyStore(db).issue(options.role);
  db.close();
  process.stdout.write(
    `${options.role === 'admin' ? 'Admin' : 'API'} key for account ${key.accountId}: ${key.secret}\n`,
  );
}
