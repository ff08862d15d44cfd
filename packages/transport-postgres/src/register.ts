/** Imported for its effect: `openTransport` opens `postgres://` URLs (pg loads with the first). */
import { registerTransport } from '@syncopate/messaging';

registerTransport({
  schemes: ['postgres', 'postgresql'],
  openDriver: async (url) => (await import('./postgres-driver.js')).openPostgresDriver(url),
});
