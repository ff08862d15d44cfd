import type { Redis } from 'ioredis';
import { namespaceKeys } from './keys.js';

/**
 * Deletes every key of one namespace (`{prefix}:*`), found with SCAN so the server is never
 * blocked, and nothing outside the namespace is touched. For tests and benchmarks; returns how
 * many keys went.
 */
export async function deleteRedisNamespace(options: { redis: Redis; prefix: string }): Promise<number> {
  const { pattern } = namespaceKeys(options.prefix);
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = (await options.redis.call('SCAN', [cursor, 'MATCH', pattern, 'COUNT', 500])) as [
      string,
      string[],
    ];
    cursor = next;
    if (keys.length > 0) deleted += (await options.redis.call('UNLINK', keys)) as number;
  } while (cursor !== '0');
  return deleted;
}
