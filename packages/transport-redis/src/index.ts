/**
 * The Redis Streams transport: a stream per group, consumer groups, Lua scripts for every settle.
 * Import `@syncopate/transport-redis/register` to open it by URL (`redis://host:6379?prefix=…`).
 */
export { type NamespaceKeys, namespaceKeys } from './keys.js';
export { deleteRedisNamespace } from './namespace.js';
export { openRedisDriver, RedisDriver, RedisUnavailableError, ReplicationTimeoutError } from './redis-driver.js';
export { parseRedisUrl, type RedisTransportOptions } from './redis-url.js';
