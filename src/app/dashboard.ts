import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { Transport } from '@syncopate/messaging';
import { z } from 'zod';
import type { ApiKeyStore } from '../platform/auth/api-keys.js';
import type { Config } from '../platform/config.js';
import type { Faults } from '../platform/faults.js';
import { ApiError } from '../platform/http/api-error.js';
import type { HttpServer } from '../platform/http/server.js';
import type { Metrics } from '../platform/telemetry/metrics.js';
import type { RecentTraces } from '../platform/telemetry/recent-traces.js';
import { DashboardStreams, registerDashboardStream } from './dashboard-stream.js';
import { readQueues, registerDeadLetterRoutes } from './dead-letter-routes.js';

/** The built web app (`npm run build:web`, run by `npm install` and before `npm start`). */
export const DASHBOARD_DIST = fileURLToPath(new URL('../../web/dist', import.meta.url));

export interface DashboardParts {
  config: Pick<Config, 'SYNC_SYSTEM_URL' | 'LAB_REPORT_DIR' | 'SSE_MAX_STREAMS_PER_KEY'>;
  keys: ApiKeyStore;
  transport: Transport;
  groups: readonly string[];
  metrics: Metrics;
  traces: RecentTraces;
  faults: ReadonlyMap<string, Faults>;
  /** Where the built web app is; default web/dist. */
  distDir?: string;
}

export interface Dashboard {
  streams: DashboardStreams;
  /** Ends the open streams (call when shutdown begins: a stream would otherwise hold the drain open). */
  close(): void;
}

const SYNC_TIMEOUT_MS = 30_000;

/**
 * The web dashboard and what it needs from the server: the queue and dead-letter admin routes,
 * the live stream, the lab report, the way to a sync-mode system, and the built page itself at `/`.
 */
export async function registerDashboard(app: HttpServer, parts: DashboardParts): Promise<Dashboard> {
  registerDeadLetterRoutes(app, parts);
  const streams = new DashboardStreams({
    keys: parts.keys,
    maxStreamsPerKey: parts.config.SSE_MAX_STREAMS_PER_KEY,
    traces: parts.traces,
    faults: () => [...parts.faults.values()].map((f) => ({ service: f.service, ...f.current })),
    queues: () => readQueues(parts),
  });
  registerDashboardStream(app, streams, parts.keys);

  const hidden = { hide: true };
  const labDir = resolve(parts.config.LAB_REPORT_DIR);
  const syncUrl = parts.config.SYNC_SYSTEM_URL?.replace(/\/+$/, '');
  app.get('/v1/dashboard/config', { schema: hidden }, async () => ({
    sync_system: syncUrl !== undefined,
    lab_report: existsSync(join(labDir, 'lab-report.json')),
  }));
  app.get('/v1/dashboard/lab_report', { schema: hidden }, async (_request, reply) =>
    reply.type('application/json').send(await labFile(labDir, 'lab-report.json')),
  );
  // The report is a self-contained page with inline scripts: it runs sandboxed, in an origin of its own.
  app.get('/v1/dashboard/lab_report.html', { schema: hidden, config: { sandboxed: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(await labFile(labDir, 'lab-report.html')),
  );

  // Sync mode: the same request, sent on to the sync system with the caller's own key (it must share API_KEY).
  const forward = async (path: string, init: { method: string; headers: Record<string, string>; body?: string }) => {
    if (!syncUrl) {
      throw new ApiError(404, 'invalid_request_error', 'sync_system_missing', 'No SYNC_SYSTEM_URL is configured');
    }
    try {
      return await fetch(`${syncUrl}${path}`, { ...init, signal: AbortSignal.timeout(SYNC_TIMEOUT_MS) });
    } catch (error) {
      // Why (an address, a connection error) is for the operator's log, not for the page.
      app.log.warn({ err: error }, 'the sync system did not answer');
      throw new ApiError(
        502,
        'api_error',
        'sync_system_unreachable',
        'The sync system (SYNC_SYSTEM_URL) did not answer',
      );
    }
  };
  const passOn = (request: { headers: Record<string, string | string[] | undefined> }, names: string[]) =>
    Object.fromEntries(
      names.flatMap((name) => {
        const value = request.headers[name];
        return typeof value === 'string' ? [[name, value]] : [];
      }),
    );
  app.post('/v1/dashboard/sync/payments', { schema: hidden }, async (request, reply) => {
    const answer = await forward('/v1/payments', {
      method: 'POST',
      headers: { ...passOn(request, ['authorization', 'idempotency-key']), 'content-type': 'application/json' },
      body: JSON.stringify(request.body ?? {}),
    });
    return reply
      .code(answer.status)
      .type(answer.headers.get('content-type') ?? 'application/json')
      .send(await answer.text());
  });
  app.get(
    '/v1/dashboard/sync/traces/:paymentId',
    { schema: { ...hidden, params: z.object({ paymentId: z.string().min(1).max(64) }) } },
    async (request, reply) => {
      const answer = await forward(`/v1/traces/${encodeURIComponent(request.params.paymentId)}`, {
        method: 'GET',
        headers: passOn(request, ['authorization']),
      });
      return reply
        .code(answer.status)
        .type(answer.headers.get('content-type') ?? 'application/json')
        .send(await answer.text());
    },
  );

  const dist = parts.distDir ?? DASHBOARD_DIST;
  if (existsSync(join(dist, 'index.html'))) {
    await app.register(fastifyStatic, {
      root: dist,
      prefix: '/',
      // One route per built file, found at start: no catch-all to shadow /v1, /docs or a 404.
      wildcard: false,
      // @fastify/swagger-ui registers this plugin too: one reply decorator is enough.
      decorateReply: false,
      schemaHide: true,
      setHeaders(response, path) {
        response.setHeader(
          'cache-control',
          path.includes(`${join(dist, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    });
  } else {
    app.get('/', { schema: hidden }, async (_request, reply) =>
      reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The dashboard is not built: run `npm run build:web` (npm install and npm start do it), then reload.\n'),
    );
  }

  return { streams, close: () => streams.close() };
}

async function labFile(dir: string, name: string): Promise<string> {
  try {
    return await readFile(join(dir, name), 'utf8');
  } catch {
    // The folder is named by the setting, never by its path: that is this machine's business.
    throw new ApiError(
      404,
      'invalid_request_error',
      'lab_report_missing',
      'No lab report yet: run `npm run lab` (or point LAB_REPORT_DIR at one)',
    );
  }
}
