import type { ServerResponse } from 'node:http';
import { ApiError } from './api-error.js';
import type { HttpServer } from './server.js';

const IDLE_SWEEP_MS = 100;

/**
 * Closes the server gracefully and within a deadline, in two steps.
 *
 * Draining: the requests in flight when the close began are answered; every new request gets a
 * 503 instead. (In one process a service may call another while answering, payments charging
 * through the gateway: those calls go to the internal listener, which the composition root closes
 * only after the public one has drained.) Closing: Fastify's close refuses new connections and
 * answers 503 to requests on kept-alive ones.
 *
 * From the first step on, every answer tells its client the connection closes after it: a
 * kept-alive connection would otherwise stay open after its answer until the client lets it go
 * (or the 72 s keep-alive timeout), holding the close open all that while. Connections left idle
 * are swept; at the deadline whatever is still open is cut.
 *
 * Call before the server listens (it adds hooks); returns the close.
 */
export function gracefulClose(server: HttpServer): (deadlineMs: number) => Promise<void> {
  let draining = false;
  const inFlight = new Set<ServerResponse>();
  server.server.on('request', (_request, response: ServerResponse) => {
    inFlight.add(response);
    response.once('close', () => inFlight.delete(response));
  });
  // Callback-style hooks: they run on every request, and an async hook costs promises for nothing.
  server.addHook('onRequest', (_request, reply, done) => {
    if (!draining) return done();
    reply.header('connection', 'close');
    done(
      new ApiError(503, 'api_error', 'shutting_down', 'This server is shutting down; retry the request', undefined, {
        'retry-after': '1',
      }),
    );
  });
  server.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) reply.header('connection', 'close');
    done(null, payload);
  });

  return async (deadlineMs) => {
    const deadline = Date.now() + deadlineMs;
    draining = true;
    const answered = [...inFlight].map((response) => new Promise((resolve) => response.once('close', resolve)));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(answered),
      new Promise((resolve) => {
        timer = setTimeout(resolve, deadlineMs);
      }),
    ]);
    clearTimeout(timer);

    const closed = server.close();
    // An answer that was already leaving when the drain began went out without the header.
    const sweep = setInterval(() => server.server.closeIdleConnections(), IDLE_SWEEP_MS);
    const cut = setTimeout(() => server.server.closeAllConnections(), Math.max(0, deadline - Date.now()));
    try {
      await closed;
    } finally {
      clearInterval(sweep);
      clearTimeout(cut);
    }
  };
}
