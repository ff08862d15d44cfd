import { createTransport } from './driven-transport.js';
import { InvalidTransportUrlError, MessagingError } from './errors.js';
import { MemoryDriver } from './memory-driver.js';
import type { Transport, TransportDriver } from './transport.js';

/**
 * How `openTransport` opens one kind of backend. A transport package registers one when its
 * `register` entry is imported (`import '@syncopate/transport-nats/register'`); a transport written
 * anywhere else does the same with `registerTransport`, and core never names it.
 */
export interface TransportFactory {
  /** The URL schemes it opens, lower case, without the colon: `['postgres', 'postgresql']`. */
  schemes: readonly string[];
  /** Opens a driver for the URL; rejects with `InvalidTransportUrlError` when the URL is wrong. */
  openDriver(url: string): Promise<TransportDriver>;
}

export class SchemeTakenError extends MessagingError {
  constructor(scheme: string) {
    super('scheme_taken', `another transport is already registered for the "${scheme}:" scheme`);
  }
}

const factories = new Map<string, TransportFactory>();

/**
 * Makes `openTransport` open the factory's schemes. Registering the same factory again does
 * nothing; another factory for a scheme already taken is refused (`SchemeTakenError`), since which
 * of the two a URL opened would depend on import order.
 */
export function registerTransport(factory: TransportFactory): void {
  const schemes = factory.schemes.map((scheme) => scheme.toLowerCase());
  for (const scheme of schemes) {
    const taken = factories.get(scheme);
    if (taken && taken !== factory) throw new SchemeTakenError(scheme);
  }
  for (const scheme of schemes) factories.set(scheme, factory);
}

/** The schemes `openTransport` can open now, sorted. */
export function registeredSchemes(): string[] {
  return [...factories.keys()].sort();
}

/** `memory:` (a fresh in-process queue) or `memory:name` (shared by that name within the process). */
registerTransport({
  schemes: ['memory'],
  openDriver: async (url) => new MemoryDriver(url.slice(url.indexOf(':') + 1).replace(/^\/\//, '') || undefined),
});

/**
 * Opens a transport from its URL (the `TRANSPORT_URL` setting), through the factory registered for
 * its scheme: `memory:` always; `sqlite:`, `postgres://`, `amqp://`, `nats://`, `redis://` once
 * their packages' `register` entries are imported.
 */
export async function openTransport(url: string): Promise<Transport> {
  return createTransport(await openDriver(url));
}

/** The driver `openTransport` would wrap: for code that works at the driver layer (tests, tools). */
export async function openDriver(url: string): Promise<TransportDriver> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url.trim())?.[1]?.toLowerCase();
  if (!scheme) throw new InvalidTransportUrlError(url, 'expected <scheme>:<location>, like sqlite:./data/syncopate.db');
  const factory = factories.get(scheme);
  if (!factory) {
    throw new InvalidTransportUrlError(
      url,
      `no transport is registered for "${scheme}:" (registered: ${registeredSchemes().join(', ')}); ` +
        "import its package's register entry first, like '@syncopate/transport-rabbitmq/register'",
    );
  }
  return factory.openDriver(url);
}
