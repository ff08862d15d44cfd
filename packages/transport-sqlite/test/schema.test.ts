import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqlite } from '../src/open-sqlite.js';
import { migrateQueueSchema } from '../src/schema.js';

const indexColumns = (db: ReturnType<typeof openSqlite>, name: string) =>
  (db.pragma(`index_info(${name})`) as { name: string }[]).map((column) => column.name);

describe('sqlite queue schema', () => {
  it('replaces the same-key index of an older file: the key first, no visible_at', () => {
    const db = openSqlite(join(mkdtempSync(join(tmpdir(), 'syncopate-schema-')), 'old.db'));
    migrateQueueSchema(db);
    db.exec(`DROP INDEX syncopate_deliveries_by_key;
      CREATE INDEX syncopate_deliveries_order ON syncopate_deliveries (grp, okey, id, visible_at) WHERE okey IS NOT NULL`);

    migrateQueueSchema(db);

    const indexes = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'syncopate_deliveries'")
      .pluck()
      .all();
    expect(indexes).not.toContain('syncopate_deliveries_order');
    expect(indexColumns(db, 'syncopate_deliveries_by_key')).toEqual(['okey', 'grp', 'id']);
    db.close();
  });
});
