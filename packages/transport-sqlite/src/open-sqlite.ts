import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';

export type Synchronous = 'full' | 'normal';

export interface SqliteOpenOptions {
  /**
   * `full` (default): a resolved publish survives a power cut. `normal`: it survives a crash of
   * the process, not of the machine, and commits are several times faster.
   */
  synchronous?: Synchronous;
}

/** Opens a database file the way every Syncopate component expects it: WAL, a busy timeout, the chosen sync level. */
export function openSqlite(file: string, options: SqliteOpenOptions = {}): Database.Database {
  const path = resolve(file);
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  // Other processes write to the same file; wait for their short transactions instead of failing.
  db.pragma('busy_timeout = 5000');
  // Temporary data in memory, the statement journals above all: a group commit gives each unit a
  // savepoint, and past 64 KiB SQLite spilled their journals to files in /var/tmp, created, written
  // and unlinked many times a second (measured: 15 of a payment's 40 pwrite calls; 30 µs of its
  // system time). They hold one batch's changed pages at most.
  db.pragma('temp_store = MEMORY');
  return db;
}
