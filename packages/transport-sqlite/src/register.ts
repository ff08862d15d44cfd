/** Imported for its effect: `openTransport` opens `sqlite:` URLs (better-sqlite3 loads with the first). */
import { registerTransport } from '@syncopate/messaging';

registerTransport({
  schemes: ['sqlite'],
  openDriver: async (url) => (await import('./sqlite-driver.js')).openSqliteDriver(url),
});
