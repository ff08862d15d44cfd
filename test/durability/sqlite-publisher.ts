/**
 * The publishing process of the SQLite run (the embedded transport has no server to kill: the
 * process that writes the file is what crashes). Publishes with a window in flight and reports
 * every confirmed publish to its parent, which kills it with SIGKILL at a moment of its choosing.
 */
import { openTransport } from '@syncopate/messaging';
import '../../src/app/transports.js';
import { WindowedPublisher } from './load.js';

export type PublisherReport =
  | { kind: 'publishing' }
  /** The publishes confirmed since the last report: one report per turn of the event loop. */
  | { kind: 'confirmed'; ids: string[] }
  | { kind: 'stopped'; rejected: number; reasons: string[] };

const url = process.argv[2] ?? '';
const send = (report: PublisherReport) => process.send?.(report);

let confirmed: string[] = [];
const report = () => {
  send({ kind: 'confirmed', ids: confirmed });
  confirmed = [];
};

const transport = await openTransport(url);
const publisher = new WindowedPublisher(
  (event) => transport.publish(event),
  (id) => {
    if (confirmed.push(id) === 1) setImmediate(report);
  },
).start();

process.on('message', async (command) => {
  if (command !== 'stop') return;
  await publisher.stop();
  if (confirmed.length > 0) report();
  await transport.close();
  send({ kind: 'stopped', rejected: publisher.rejected, reasons: [...publisher.reasons] });
  process.disconnect();
});
send({ kind: 'publishing' });
