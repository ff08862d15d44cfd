import type { SqlDatabase, SqlExecutor, SqlParams, TransactionOptions } from '@syncopate/messaging';
import pg from 'pg';

/** Rewrites `?` placeholders as `$1, $2, …`, leaving quoted text alone. */
export function toPostgresPlaceholders(sql: string): string {
  let index = 0;
  let quoted = false;
  let out = '';
  for (const char of sql) {
    if (char === "'") quoted = !quoted;
    out += char === '?' && !quoted ? `$${++index}` : char;
  }
  return out;
}

const INT8 = 20;
const NUMERIC = 1700;

/** An integer PostgreSQL sent that a JavaScript number would round. */
export class UnsafeIntegerError extends RangeError {
  constructor(value: string, type: 'bigint' | 'numeric') {
    super(
      `PostgreSQL returned the ${type} ${value}, which a JavaScript number cannot hold exactly: ` +
        'select it as text (::text) for the exact digits, or as ::float8 where a float will do',
    );
    this.name = 'UnsafeIntegerError';
  }
}

/** Digits only: an integer as PostgreSQL writes it (a NUMERIC with a fraction has a point). */
const INTEGER_TEXT = /^-?\d+$/;

function exactNumber(type: 'bigint' | 'numeric') {
  return (text: string): number => {
    const value = Number(text);
    if (!INTEGER_TEXT.test(text) || !Number.isSafeInteger(value)) throw new UnsafeIntegerError(text, type);
    return value;
  };
}

/**
 * BIGINT columns (ids, epoch milliseconds, amounts, counts) and their sums (NUMERIC) come back as
 * numbers, as they do from SQLite, but only where the number is exact: a value past 2^53, or a
 * NUMERIC with a fraction, fails its query with `UnsafeIntegerError` instead of being rounded.
 * Set on this database's own pool: `pg`'s global parsers, and other code's pools, stay as they are.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8
      ? exactNumber('bigint')
      : oid === NUMERIC
        ? exactNumber('numeric')
        : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** A PostgreSQL executor also hands out its connection, for code written against `pg` itself. */
export interface PostgresExecutor extends SqlExecutor {
  readonly client: pg.Pool | pg.PoolClient;
}

export function isPostgresExecutor(ex: SqlExecutor): ex is PostgresExecutor {
  return ex.dialect === 'postgres' && 'client' in ex;
}

/** Distinct statement texts prepared by name; past this, statements go unnamed (parsed and planned each time). */
const MAX_PREPARED = 500;
/**
 * Longer parameter lists are the `IN (?, ?, …)` of a batch, a new text for every batch size:
 * preparing each would fill the cache with variants used once.
 */
const MAX_PREPARED_PARAMS = 32;
const prepared = new Map<string, { name: string; text: string }>();

/**
 * A statement with parameters is prepared by name, once per connection: the server then skips
 * parsing and planning it on every later call (measured: the payments API on PostgreSQL about a
 * sixth faster). Statements without parameters (migrations, several statements in one text) go as
 * simple queries.
 */
function statement(sql: string, params: SqlParams): pg.QueryConfig {
  const values = params as unknown[];
  if (values.length === 0) return { text: toPostgresPlaceholders(sql) };
  let known = prepared.get(sql);
  if (!known && values.length <= MAX_PREPARED_PARAMS && prepared.size < MAX_PREPARED) {
    known = { name: `syncopate-sql-${prepared.size}`, text: toPostgresPlaceholders(sql) };
    prepared.set(sql, known);
  }
  return known ? { name: known.name, text: known.text, values } : { text: toPostgresPlaceholders(sql), values };
}

function executor(client: pg.Pool | pg.PoolClient): PostgresExecutor {
  return {
    dialect: 'postgres',
    client,
    async all<T>(sql: string, params: SqlParams = []) {
      return (await client.query(statement(sql, params))).rows as T[];
    },
    async get<T>(sql: string, params: SqlParams = []) {
      return (await client.query(statement(sql, params))).rows[0] as T | undefined;
    },
    async run(sql: string, params: SqlParams = []) {
      return { changes: (await client.query(statement(sql, params))).rowCount ?? 0 };
    },
    async exec(script: string) {
      // Without parameters pg sends the simple query protocol, which takes several statements.
      await client.query(script);
    },
  };
}

/**
 * SqlDatabase on PostgreSQL: a pool whose connections work in the service's own schema, so
 * several services share one database server and each still owns its tables.
 */
export class PostgresDatabase implements SqlDatabase {
  readonly dialect = 'postgres';
  private readonly direct: SqlExecutor;

  private constructor(
    readonly pool: pg.Pool,
    readonly location: string,
  ) {
    this.direct = executor(pool);
  }

  static async open(options: { url: string; schema: string; max?: number }): Promise<PostgresDatabase> {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) throw new Error(`invalid schema name "${options.schema}"`);
    const admin = new pg.Client({ connectionString: options.url });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
    } catch (error) {
      // Two processes creating the schema at once: the loser sees a unique violation, and the schema exists.
      if ((error as { code?: string }).code !== '23505') throw error;
    } finally {
      await admin.end();
    }
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.max ?? 10,
      options: `-c search_path=${options.schema}`,
      types,
    });
    const { hostname, port, pathname } = new URL(options.url);
    return new PostgresDatabase(pool, `postgres://${hostname}:${port || 5432}${pathname}#${options.schema}`);
  }

  all<T>(sql: string, params?: SqlParams): Promise<T[]> {
    return this.direct.all<T>(sql, params);
  }

  get<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return this.direct.get<T>(sql, params);
  }

  run(sql: string, params?: SqlParams): Promise<{ changes: number }> {
    return this.direct.run(sql, params);
  }

  exec(script: string): Promise<void> {
    return this.direct.exec(script);
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const client = await this.pool.connect();
    try {
      // The PostgreSQL way of a commit that does not wait for the WAL flush; sent with the BEGIN,
      // as one simple query: one round trip, not two.
      await client.query(options.durable === false ? 'BEGIN; SET LOCAL synchronous_commit TO OFF' : 'BEGIN');
      const result = await work(executor(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
