/**
 * Writers to one SQLite file within one process take turns here. A group-committing
 * `SqliteDatabase` holds the file's write lock across awaits (its units are async); a connection
 * of the same process that then wrote synchronously would wait on SQLite's busy timeout, blocking
 * the very event loop the lock holder needs to finish. So the lock holder announces its batch,
 * and synchronous writers (the SQLite transport's connections) write only between batches.
 */
const batches = new Map<string, Promise<unknown>>();

/** Marks `file` as locked by this process until `batch` settles. */
export function holdWriteLock(file: string, batch: Promise<unknown>): void {
  batches.set(file, batch);
  const release = () => {
    if (batches.get(file) === batch) batches.delete(file);
  };
  batch.then(release, release);
}

/**
 * Runs a synchronous write once no batch of this process holds `file`. The last check and the
 * write run in one synchronous step, so no batch can begin in between.
 */
export async function writeBetweenBatches<T>(file: string, write: () => T): Promise<T> {
  for (let batch = batches.get(file); batch; batch = batches.get(file)) await batch.catch(() => {});
  return write();
}
