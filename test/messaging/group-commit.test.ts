import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/messaging/group-commit.js';
import { openSqlite } from '../../src/messaging/transports/sqlite/database.js';

describe('group commit', () => {
  it('commits concurrent units in one transaction, and rolls back a failing unit alone', async () => {
    const db = openSqlite(join(mkdtempSync(join(tmpdir(), 'syncopate-gc-')), 'g.db'));
    db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY)');
    const commits = new GroupCommit(db);
    const insert = db.prepare('INSERT INTO t (n) VALUES (?)');
    const transactions: boolean[] = [];
    const results = await Promise.allSettled([
      commits.run(() => {
        transactions.push(db.inTransaction);
        insert.run(1);
        return 'one';
      }),
      commits.run(() => {
        insert.run(2);
        throw new Error('constraint');
      }),
      commits.run(() => insert.run(3).changes),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[0] as PromiseFulfilledResult<string>).value).toBe('one');
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('constraint'));
    expect(transactions).toEqual([true]);
    expect(db.prepare('SELECT n FROM t ORDER BY n').pluck().all()).toEqual([1, 3]);
    // Committed, not just written: another connection sees the rows.
    const reader = openSqlite(db.name);
    expect(reader.prepare('SELECT count(*) FROM t').pluck().get()).toBe(2);
    reader.close();
    db.close();
  });
});
