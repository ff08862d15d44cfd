import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { openSqlite } from '@syncopate/transport-sqlite';
import type { Database } from 'better-sqlite3';

/** Only the owner may read or write what holds keys and secrets. */
const OWNER_ONLY_FILE = 0o600;
const OWNER_ONLY_DIR = 0o700;

/**
 * The platform's own SQLite file (`auth.db` in DATA_DIR): API keys and the secrets the system's
 * processes share. DATA_DIR is created for its owner only, and the file (with its WAL and shared
 * memory files, which SQLite creates with the file's permissions) is readable by its owner only,
 * whatever the umask: other users of the machine must not read a key.
 */
export function openPlatformStore(dataDir: string): Database {
  mkdirSync(dataDir, { recursive: true, mode: OWNER_ONLY_DIR });
  const file = join(dataDir, 'auth.db');
  if (!existsSync(file)) closeSync(openSync(file, 'a', OWNER_ONLY_FILE));
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    if (existsSync(path)) chmodSync(path, OWNER_ONLY_FILE);
  }
  return openSqlite(file);
}
