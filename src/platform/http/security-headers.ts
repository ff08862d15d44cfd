import fastifyHelmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import type { HttpServer } from './server.js';

/**
 * The Content-Security-Policy of every page this server makes (the dashboard, the API reference):
 * scripts, styles, fonts and connections from this origin only, no inline script, no plugins, never
 * framed by another site. Written out whole (no library defaults) so it says everything it allows;
 * no `upgrade-insecure-requests`, since the server answers on plain HTTP on loopback.
 */
const PAGE_POLICY = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  imgSrc: ["'self'", 'data:'],
  objectSrc: ["'none'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'"],
};

/**
 * For a self-contained HTML document with inline scripts and styles (the lab report): allowed to
 * run them, but sandboxed into an origin of its own, so its scripts cannot read this origin's
 * storage (where the dashboard keeps its keys) nor call the API with them.
 */
export const SANDBOXED_DOCUMENT: FastifyHelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'unsafe-inline'"],
      styleSrc: ["'unsafe-inline'"],
      imgSrc: ['data:'],
      frameAncestors: ["'none'"],
      sandbox: ['allow-scripts'],
    },
  },
};

/**
 * Security headers on every answer of the public listener (@fastify/helmet): the CSP above,
 * `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`,
 * `Cross-Origin-Opener-Policy` and `-Resource-Policy`, and the rest of helmet's defaults.
 * Strict-Transport-Security is left to the TLS terminator in front, which knows the host's domains.
 */
export async function registerSecurityHeaders(app: HttpServer): Promise<void> {
  await app.register(fastifyHelmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: PAGE_POLICY },
    strictTransportSecurity: false,
    // The old header, for browsers that predate frame-ancestors: no framing at all, as the CSP says.
    xFrameOptions: { action: 'deny' },
  });
}
