/**
 * The toolkit's port to a service's own database: the inbox, the outbox and the services' stores
 * use it, so the same code runs on SQLite (the embedded default) and on PostgreSQL.
 *
 * SQL is written once, with `?` placeholders and the subset both engines share (`ON CONFLICT`,
 * `RETURNING`, `BIGINT` for integers); a migration may differ per dialect.
 */
export type Dialect = 'sqlite' | 'postgres';

export type SqlParams = readonly unknown[];

export interface SqlExecutor {
  readonly dialect: Dialect;
  all<T>(sql: string, params?: SqlParams): Promise<T[]>;
  get<T>(sql: string, params?: SqlParams): Promise<T | undefined>;
  run(sql: string, params?: SqlParams): Promise<{ changes: number }>;
  /**
   * Runs a script of one or more statements, without parameters (a migration), split by the
   * engine's own parser: a semicolon inside a string literal or a trigger's body is the script's.
   */
  exec(script: string): Promise<void>;
}

export interface TransactionOptions {
  /**
   * Default true: committed to disk before the promise resolves. False: committed, but the disk
   * sync may lag (a power cut can undo it, a process crash cannot); only for writes a retry repairs.
   */
  durable?: boolean;
}

export interface SqlDatabase extends SqlExecutor {
  /** Where it lives (a file, or a server and schema): names its in-process wake-up channels. */
  readonly location: string;
  /**
   * Runs `work` in a transaction: committed before the promise resolves, rolled back if it throws.
   * `work` must only do database work through the executor it is given: on SQLite, transactions
   * that arrive together share one commit, so a slow `work` holds up the others.
   */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}

/** A migration is one SQL script, or one per dialect where the engines differ. */
export type Migration = string | { sqlite: string; postgres: string };

/** Applies the scope's migrations not applied yet, in order, each with its record, in one transaction. */
export async function migrate(db: SqlDatabase, scope: string, migrations: readonly Migration[]): Promise<void> {
  await db.transaction(async (tx) => {
    // Processes starting together take turns (SQLite's write lock does it there): otherwise two
    // could both see a migration unapplied and collide creating the same table.
    if (db.dialect === 'postgres') {
      await tx.get("SELECT pg_advisory_xact_lock(hashtext('syncopate-migrate'), hashtext(current_schema()))");
    }
    await tx.run(`CREATE TABLE IF NOT EXISTS schema_migrations (
      scope TEXT NOT NULL, version BIGINT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (scope, version))`);
    const row = await tx.get<{ version: number | null }>(
      'SELECT max(version) AS version FROM schema_migrations WHERE scope = ?',
      [scope],
    );
    const current = Number(row?.version ?? 0);
    for (const [index, migration] of migrations.entries()) {
      const version = index + 1;
      if (version <= current) continue;
      await tx.exec(typeof migration === 'string' ? migration : migration[db.dialect]);
      await tx.run('INSERT INTO schema_migrations (scope, version, applied_at) VALUES (?, ?, ?)', [
        scope,
        version,
        new Date().toISOString(),
      ]);
    }
  });
}
