import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeliveryJournal, type Envelope } from '@syncopate/messaging';
import { happened } from '@syncopate/messaging/testing';
import { SqliteDatabase } from '@syncopate/transport-sqlite';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'syncopate-journal-'));

describe('delivery journal', () => {
  it('marks a letter purged or replayed after the attempt that dead-lettered it, however close behind it comes', async () => {
    const db = new SqliteDatabase(join(dir, 'journal.db'));
    const journal = await DeliveryJournal.open(db);
    const hooks = journal.hooks();
    const deadLetter = (event: Envelope) =>
      hooks.onSettled?.({
        group: 'email',
        event,
        eventId: event.id,
        attempt: 3,
        outcome: { kind: 'dead-letter', reason: 'smtp down' },
        durationMs: 1,
      });
    const purged = happened(1);
    const replayed = happened(2);
    // The report is batched; the operator's purge arrives before it is written.
    deadLetter(purged);
    deadLetter(replayed);
    await journal.markPurged('email', purged.id);
    await journal.markReplayed('email', replayed.id);
    const states = await journal.forEvents([purged.id, replayed.id]);
    expect(Object.fromEntries(states.map((record) => [record.eventId, record.state]))).toEqual({
      [purged.id]: 'purged',
      [replayed.id]: 'replayed',
    });
    await db.close();
  });
});
