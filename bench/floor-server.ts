/**
 * The floor for `npm run bench:api`: the same critical-path work done bare. A Fastify route makes
 * one HTTP call to a bare upstream and commits one SQLite transaction with two inserts (the
 * payment and its event); no validation, idempotency, auth, retries or consumers.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite } from '@syncopate/transport-sqlite';
import Fastify from 'fastify';
import { Agent, request } from 'undici';

const upstream = Fastify();
upstream.post('/v1/charges', async (req) => ({ id: `ch_${randomUUID()}`, status: 'succeeded', request: req.body }));
const upstreamUrl = await upstream.listen({ port: 0, host: '127.0.0.1' });

const db = openSqlite(join(mkdtempSync(join(tmpdir(), 'syncopate-floor-')), 'floor.db'));
db.exec(`CREATE TABLE payments (id TEXT PRIMARY KEY, body TEXT NOT NULL);
         CREATE TABLE outbox (id INTEGER PRIMARY KEY, body TEXT NOT NULL);`);
const insertPayment = db.prepare('INSERT INTO payments (id, body) VALUES (?, ?)');
const insertEvent = db.prepare('INSERT INTO outbox (body) VALUES (?)');
const commit = db.transaction((id: string, payment: string) => {
  insertPayment.run(id, payment);
  insertEvent.run(payment);
});

const agent = new Agent({ keepAliveTimeout: 30_000, connections: 64 });
const app = Fastify();
app.post('/v1/payments', async (req, reply) => {
  const response = await request(`${upstreamUrl}/v1/charges`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(req.body),
  });
  const charge = (await response.body.json()) as { id: string };
  const payment = JSON.stringify({ id: `pay_${randomUUID()}`, status: 'succeeded', charge: charge.id });
  commit(charge.id, payment);
  return reply.code(201).send(payment);
});
app.get('/healthz', async () => ({ status: 'ok' }));
const url = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.stdout.write(`listening ${url}\n`);
process.on('SIGTERM', () => process.exit(0));
