import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteInbox } from '../../src/messaging/inbox/sqlite-inbox.js';
import { openTransport } from '../../src/messaging/index.js';
import { openSqlite } from '../../src/messaging/transports/sqlite/database.js';
import { happened, TestHappened } from '../contract/events.js';
import { delay, waitFor } from '../support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'syncopate-inbox-'));

describe('inbox (idempotent consumer)', () => {
  it('applies a redelivered event once: the record and the write share a transaction', async () => {
    const db = openSqlite(join(dir, 'analytics.db'));
    db.exec('CREATE TABLE totals (id INTEGER PRIMARY KEY CHECK (id = 1), sum INTEGER NOT NULL)');
    db.exec('INSERT INTO totals VALUES (1, 0)');
    const inbox = new SqliteInbox(db);
    const transport = await openTransport(`sqlite:${join(dir, 'queue.db')}`);
    const attempts = new Map<string, number>();
    await transport.subscribe({
      group: 'analytics',
      events: [TestHappened],
      backoff: { initialDelayMs: 5, maxDelayMs: 10 },
      handler: async (message) => {
        const seen = (attempts.get(message.event.id) ?? 0) + 1;
        attempts.set(message.event.id, seen);
        await inbox.once(message, () => db.prepare('UPDATE totals SET sum = sum + ?').run(message.event.data.n));
        // The write committed, then the ack is lost (as when a process dies here): redelivered.
        if (seen === 1) throw new Error('crashed before the ack');
      },
    });
    await transport.publish([happened(10), happened(32)]);
    await waitFor('both redelivered', () => [...attempts.values()].filter((n) => n >= 2).length === 2);
    await delay(100);
    expect(db.prepare('SELECT sum FROM totals').pluck().get()).toBe(42);
    await transport.close();
    db.close();
  });

  it('forgets the record when the write fails, so the retry applies it', async () => {
    const db = openSqlite(join(dir, 'rollback.db'));
    const inbox = new SqliteInbox(db);
    const message = { group: 'g', event: happened(1) };
    await expect(
      inbox.once(message, () => {
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(inbox.has(message)).toBe(false);
    expect(await inbox.once(message, () => 'written')).toEqual({ processed: true, result: 'written' });
    expect(await inbox.once(message, () => 'again')).toEqual({ processed: false });
    expect(inbox.has({ group: 'other', event: message.event })).toBe(false);
    db.close();
  });
});
