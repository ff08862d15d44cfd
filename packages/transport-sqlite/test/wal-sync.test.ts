import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WalSync } from '../src/wal-sync.js';

const dir = mkdtempSync(join(tmpdir(), 'syncopate-wal-sync-'));

describe('WalSync', () => {
  it('shares syncs: callers while one runs get the next one, which starts when it ends', async () => {
    const file = join(dir, `${randomBytes(4).toString('hex')}.db`);
    writeFileSync(`${file}-wal`, 'frames');
    const wal = new WalSync(file);
    const first = wal.sync();
    const second = wal.sync();
    const third = wal.sync();
    expect(second).toBe(third);
    expect(first).not.toBe(second);
    await first;
    expect(wal.synced).toBe(1);
    await third;
    expect(wal.synced).toBe(2);
    await wal.close();
  });

  it('rejects when the log cannot be synced', async () => {
    const wal = new WalSync(join(dir, 'no-such-file.db'));
    await expect(wal.sync()).rejects.toThrow(/ENOENT/);
    expect(wal.synced).toBe(0);
  });
});
