import { join } from 'node:path';
import { openSqlite } from '@syncopate/transport-sqlite';
import { benchEventJson, type Case, type CaseFactory, drive, now, targetOf, transportCase } from './support.js';

let files = 0;

/** The floor: one row per message in its own transaction; a consumer that claims and deletes in batches. */
function sqliteFloor(dir: string): Case {
  return {
    name: 'sqlite-floor',
    async run(mode) {
      const db = openSqlite(join(dir, `floor-${files++}.db`));
      db.exec('CREATE TABLE queue (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
      const insert = db.prepare('INSERT INTO queue (body) VALUES (?)');
      const take = db.prepare(
        'DELETE FROM queue WHERE id IN (SELECT id FROM queue ORDER BY id LIMIT 100) RETURNING body',
      );
      const latencies: number[] = [];
      const target = targetOf(mode);
      let scheduled = false;
      let finish: () => void = () => {};
      const done = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const drain = () => {
        scheduled = false;
        for (;;) {
          const rows = take.all() as { body: string }[];
          if (rows.length === 0) break;
          const at = now();
          for (const row of rows)
            latencies.push(at - (JSON.parse(row.body) as { data: { sentAt: number } }).data.sentAt);
        }
        if (latencies.length >= target) finish();
      };
      const started = now();
      await drive(mode, async (n) => {
        insert.run(benchEventJson(n));
        if (!scheduled) {
          scheduled = true;
          setImmediate(drain);
        }
      });
      await done;
      const elapsed = now() - started;
      db.close();
      return { received: latencies.length, elapsedMs: elapsed, latencies };
    },
  };
}

export const cases: CaseFactory = async (options) => [
  sqliteFloor(options.dir),
  transportCase('sqlite', () => `sqlite:${join(options.dir, `transport-${files++}.db`)}`, options),
  transportCase('memory', () => 'memory:', options),
];
