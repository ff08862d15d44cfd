import { closeSync, fdatasync, openSync } from 'node:fs';
import { promisify } from 'node:util';

const datasync = promisify(fdatasync);

/**
 * Makes a WAL database's commits durable off the event loop. The connection commits without
 * syncing (`synchronous = NORMAL`: in WAL mode SQLite still syncs around checkpoints and when the
 * log is reused, so the file stays consistent); then `sync()` flushes the log with one `fdatasync`
 * on libuv's thread pool, which makes every commit written before it durable, as
 * `synchronous = FULL` would have before COMMIT returned, but without stalling the event loop.
 *
 * Syncs are shared: a caller arriving while one is in flight gets the next one (its commit may
 * have missed the running one), which then covers everyone who arrived meanwhile.
 */
export class WalSync {
  /** Syncs completed: with group commit, far fewer than the durable transactions they covered. */
  synced = 0;
  private fd: number | undefined;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  private readonly walFile: string;

  /** `databaseFile`: the database whose log (`<file>-wal`, SQLite's name for it) is synced. */
  constructor(databaseFile: string) {
    this.walFile = `${databaseFile}-wal`;
  }

  sync(): Promise<void> {
    if (!this.running) return this.start();
    this.queued ??= this.running
      .catch(() => {})
      .then(() => {
        this.queued = undefined;
        return this.start();
      });
    return this.queued;
  }

  /** Waits for the syncs asked for, then lets go of the log. */
  async close(): Promise<void> {
    while (this.queued ?? this.running) await (this.queued ?? this.running)?.catch(() => {});
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private start(): Promise<void> {
    // The log exists from the first commit and keeps its inode while any connection is open
    // (checkpoints rewind or truncate it, never replace it).
    try {
      this.fd ??= openSync(this.walFile, 'r');
    } catch (error) {
      return Promise.reject(error);
    }
    const run = datasync(this.fd)
      .then(() => {
        this.synced += 1;
      })
      .finally(() => {
        if (this.running === run) this.running = undefined;
      });
    this.running = run;
    return run;
  }
}
