import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inbox, openTransport } from '@syncopate/messaging';
import { happened, TestHappened } from '@syncopate/messaging/testing';
import { SqliteDatabase } from '@syncopate/transport-sqlite';
import { describe, expect, it } from 'vitest';
import { delay, waitFor } from '../support/wait.js';
import '../../src/app/transports.js';

const dir = mkdtempSync(join(tmpdir(), 'syncopate-inbox-'));

describe('inbox (idempotent consumer)', () => {
  it('applies a redelivered event once: the record and the write share a transaction', async () => {
    const db = new SqliteDatabase(join(dir, 'analytics.db'));
    await db.run('CREATE TABLE totals (id INTEGER PRIMARY KEY CHECK (id = 1), sum INTEGER NOT NULL)');
    await db.run('INSERT INTO totals VALUES (1, 0)');
    const inbox = await Inbox.open(db);
    const transport = await openTransport(`sqlite:${join(dir, 'queue.db')}`);
    const attempts = new Map<string, number>();
    await transport.subscribe({
      group: 'analytics',
      events: [TestHappened],
      backoff: { initialDelayMs: 5, maxDelayMs: 10 },
      handler: async (message) => {
        const seen = (attempts.get(message.event.id) ?? 0) + 1;
        attempts.set(message.event.id, seen);
        await inbox.once(message, (tx) => tx.run('UPDATE totals SET sum = sum + ?', [message.event.data.n]));
        // The write committed, then the ack is lost (as when a process dies here): redelivered.
        if (seen === 1) throw new Error('crashed before the ack');
      },
    });
    await transport.publish([happened(10), happened(32)]);
    await waitFor('both redelivered', () => [...attempts.values()].filter((n) => n >= 2).length === 2);
    await delay(100);
    expect((await db.get<{ sum: number }>('SELECT sum FROM totals'))?.sum).toBe(42);
    await transport.close();
    await db.close();
  });

  it('forgets the record when the write fails, so the retry applies it', async () => {
    const db = new SqliteDatabase(join(dir, 'rollback.db'));
    const inbox = await Inbox.open(db);
    const message = { group: 'g', event: happened(1) };
    await expect(
      inbox.once(message, async () => {
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(await inbox.has(message)).toBe(false);
    expect(await inbox.once(message, async () => 'written')).toEqual({ processed: true, result: 'written' });
    expect(await inbox.once(message, async () => 'again')).toEqual({ processed: false });
    expect(await inbox.has({ group: 'other', event: message.event })).toBe(false);
    await db.close();
  });
});
