import { createHash } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';

/** A Lua script sent by its SHA1, and by its text only when the server has not cached it yet. */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    const tail = [keys.length, ...keys, ...args];
    try {
      return await redis.call('EVALSHA', [this.sha, ...tail]);
    } catch (error) {
      // After a server restart or SCRIPT FLUSH; EVAL caches it again for the next call.
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.call('EVAL', [this.source, ...tail]);
    }
  }

  /**
   * Adds the script to a pipeline; `done` gets its own result as soon as it arrives. An uncached
   * script runs again with its text on `fallback`.
   */
  addTo(
    pipeline: ChainableCommander,
    fallback: Redis,
    keys: readonly string[],
    args: readonly (string | number)[],
    done: (error: unknown, result: unknown) => void,
  ): void {
    pipeline.call('EVALSHA', [this.sha, keys.length, ...keys, ...args], (error, result) => {
      if (error?.message.startsWith('NOSCRIPT')) {
        this.run(fallback, keys, args).then(
          (retried) => done(null, retried),
          (failed: unknown) => done(failed, null),
        );
      } else {
        done(error ?? null, result);
      }
    });
  }
}
