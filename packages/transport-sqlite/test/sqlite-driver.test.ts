/**
 * What the SQLite transport does beyond the shared contract: a service database on the same file
 * commits before it syncs, so once such a writer has marked the file a claim syncs the log before
 * it hands events to handlers.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { happened, TestHappened } from '@syncopate/messaging/testing';
import { describe, expect, it } from 'vitest';
import { SqliteQueueOutbox } from '../src/queue-outbox.js';
import { SqliteDatabase } from '../src/sqlite-database.js';
import { openSqliteDriver } from '../src/sqlite-driver.js';

describe('sqlite transport specifics', () => {
  it('hands out a claimed event only after a sync of the log that began after the claim', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'syncopate-sqlite-driver-')), 'queue.db');
    const driver = await openSqliteDriver(`sqlite:${file}`);
    const db = new SqliteDatabase(file);
    try {
      await driver.declareGroup('g', [TestHappened.type]);
      // Written the way a service writes its events: in its own transaction, through the queue outbox.
      const outbox = await SqliteQueueOutbox.open(db);
      await db.transaction((tx) => outbox.append(tx, [happened(1)]));
      const wal = driver.wal;
      if (!wal) throw new Error('a durable SQLite transport syncs its log');
      const before = wal.synced;
      const queue = await driver.openQueue({ group: 'g', eventTypes: [TestHappened.type], leaseMs: 30_000 });
      const claimed = await queue.claim(10, new AbortController().signal);
      expect(claimed).toHaveLength(1);
      expect(wal.synced).toBe(before + 1);
      await queue.ack(claimed);
      await queue.close();
    } finally {
      await db.close();
      await driver.close();
    }
  });

  it('does not sync a claim where every event was durable at its commit (no service wrote beside the queue)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'syncopate-sqlite-driver-')), 'queue.db');
    const driver = await openSqliteDriver(`sqlite:${file}`);
    try {
      await driver.declareGroup('g', [TestHappened.type]);
      await driver.publish([happened(1)]);
      const queue = await driver.openQueue({ group: 'g', eventTypes: [TestHappened.type], leaseMs: 30_000 });
      const claimed = await queue.claim(10, new AbortController().signal);
      expect(claimed).toHaveLength(1);
      expect(driver.wal?.synced).toBe(0);
      await queue.ack(claimed);
      await queue.close();
    } finally {
      await driver.close();
    }
  });

  it('does not sync when opened with synchronous=normal', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'syncopate-sqlite-driver-')), 'queue.db');
    const driver = await openSqliteDriver(`sqlite:${file}?synchronous=normal`);
    expect(driver.wal).toBeUndefined();
    await driver.close();
  });
});
