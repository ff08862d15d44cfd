import { ApiKeyStore, type KeyRole } from '../platform/auth/api-keys.js';
import { openPlatformStore } from '../platform/auth/platform-store.js';
import { loadConfig } from '../platform/config.js';

/** Runs `work` on the key store of DATA_DIR, the one every process of this machine reads. */
function withKeys<T>(work: (keys: ApiKeyStore) => T): T {
  const db = openPlatformStore(loadConfig().dataDir);
  try {
    return work(new ApiKeyStore(db));
  } finally {
    db.close();
  }
}

/** `syncopate keys create [--admin]`: a new key, and with it a new account; the secret is printed once. */
export function createKey(options: { role: KeyRole }): void {
  const key = withKeys((keys) => keys.issue(options.role));
  process.stdout.write(
    `${options.role === 'admin' ? 'Admin' : 'API'} key ${key.keyId} for account ${key.accountId}: ${key.secret}\n`,
  );
}

/** `syncopate keys list`: every key, without its secret (a hint of it: its prefix and last four characters). */
export function listKeys(): void {
  const rows = withKeys((keys) => keys.list());
  const table = [
    ['ID', 'ROLE', 'ACCOUNT', 'KEY', 'CREATED', 'REVOKED'],
    ...rows.map((k) => [k.keyId, k.role, k.accountId, k.hint, k.createdAt, k.revokedAt ?? '-']),
  ];
  const widths = table[0]?.map((_, column) => Math.max(...table.map((row) => row[column]?.length ?? 0))) ?? [];
  for (const row of table) {
    process.stdout.write(`${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ')}\n`);
  }
}

/**
 * `syncopate keys revoke <id>`: the key opens nothing from now on, in running processes too (each
 * request reads the key store), and its open event streams end within a second. Returns the exit code.
 */
export function revokeKey(keyId: string): number {
  const revoked = withKeys((keys) => keys.revoke(keyId));
  if (!revoked) {
    process.stderr.write(`syncopate keys revoke: no live key ${keyId} (see \`syncopate keys list\`)\n`);
    return 1;
  }
  process.stdout.write(`Revoked ${keyId}: it is refused from now on.\n`);
  return 0;
}
