/** Imported for its effect: `openTransport` opens `redis://` URLs (ioredis loads with the first). */
import { registerTransport } from '@syncopate/messaging';

registerTransport({
  schemes: ['redis', 'rediss'],
  openDriver: async (url) => (await import('./redis-driver.js')).openRedisDriver(url),
});
