import { deleteRedisNamespace } from '@syncopate/transport-redis';
import { Redis } from 'ioredis';

export const REDIS_PORT = 6379;

/**
 * Fresh namespaces on the shared Redis server for one test file, and their removal afterwards:
 * only the keys of namespaces this file made (by SCAN on each prefix), never a FLUSHDB.
 */
export function redisNamespaces(label: string) {
  const made: string[] = [];
  let n = 0;
  return {
    fresh(): { url: string; prefix: string } {
      const prefix = `syncopate-test-${label}-${process.pid}-${Date.now().toString(36)}-${n++}`;
      made.push(prefix);
      return { url: `redis://127.0.0.1:${REDIS_PORT}?prefix=${prefix}`, prefix };
    },
    async cleanUp(): Promise<void> {
      const redis = new Redis(REDIS_PORT, '127.0.0.1');
      try {
        for (const prefix of made.splice(0)) await deleteRedisNamespace({ redis, prefix });
      } finally {
        redis.disconnect();
      }
    },
  };
}
