import type { HttpServer } from './server.js';

/** A route as the server registered it: one method, the Fastify URL (`/v1/payments/:id`). */
export interface RegisteredRoute {
  method: string;
  url: string;
  /** Marked `schema.hide`: left out of the API documents on purpose. */
  hidden: boolean;
}

const registries = new WeakMap<object, RegisteredRoute[]>();

/**
 * Records every route added to the server from now on: Fastify has no route list of its own, and the
 * API documents are checked against this one. Call before any route is added.
 */
export function recordRoutes(app: HttpServer): void {
  const routes: RegisteredRoute[] = [];
  registries.set(app, routes);
  app.addHook('onRoute', (route) => {
    const hidden = Boolean((route.schema as { hide?: boolean } | undefined)?.hide);
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, hidden });
  });
}

/** The routes recorded on this server, in registration order; empty when `recordRoutes` was not called. */
export function registeredRoutes(app: HttpServer): readonly RegisteredRoute[] {
  return registries.get(app) ?? [];
}
