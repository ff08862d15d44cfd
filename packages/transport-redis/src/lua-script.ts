import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A Lua script sent by its SHA1, and by its text only when the server has not cached it yet. */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    return redis.call('EVALSHA', [this.sha, keys.length, ...keys, ...args]).catch((error: unknown) => {
      // After a server restart or SCRIPT FLUSH; EVAL caches it again for the next call.
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.call('EVAL', [this.source, keys.length, ...keys, ...args]);
    });
  }
}
