/** Imported for its effect: `openTransport` opens `nats://` URLs (the NATS client loads with the first). */
import { registerTransport } from '@syncopate/messaging';

registerTransport({
  schemes: ['nats'],
  openDriver: async (url) => (await import('./nats-driver.js')).openNatsDriver(url),
});
