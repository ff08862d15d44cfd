import { type LookupAddress, type LookupAllOptions, type LookupOneOptions, lookup } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { Agent } from 'undici';

/**
 * Where webhooks may go. A webhook URL is chosen by a merchant and fetched by this server, so it
 * must not reach what only this server can reach (server-side request forgery): loopback, private
 * networks, link-local (where clouds serve instance credentials), multicast and every other special
 * range are refused, at registration and again at each connection, on the address the name
 * resolved to then (DNS can change between the two). Only `https` is taken.
 *
 * `allowLocal` (WEBHOOK_ALLOW_LOCAL=true, for development and tests) also admits `http` and
 * loopback and private addresses, so a receiver on this machine works; the other ranges stay closed.
 */
export interface WebhookUrlPolicy {
  allowLocal: boolean;
}

/** A URL or address the policy refuses; `message` names the rule. */
export class WebhookUrlError extends Error {
  readonly code = 'url_not_allowed';
}

const LOCAL_RANGES = new Set(['loopback', 'private', 'uniqueLocal']);

const RANGE_NAMES: Record<string, string> = {
  loopback: 'a loopback address',
  private: 'a private network address',
  uniqueLocal: 'a private network address',
  linkLocal: 'a link-local address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  unspecified: 'the unspecified address',
  carrierGradeNat: 'a carrier-grade NAT address',
};

const PUBLIC_ONLY = 'webhooks go only to public internet addresses';
const LOCAL_HINT = ' (WEBHOOK_ALLOW_LOCAL=true admits it, for development only)';

/**
 * Why the policy refuses this IP address, as the end of a sentence ("127.0.0.1, a loopback
 * address: webhooks go only to …"); undefined when it may be reached.
 */
export function refusedAddress(address: string, policy: WebhookUrlPolicy): string | undefined {
  if (!ipaddr.isValid(address)) return `${address}, which is not an IP address`;
  // IPv4 written as IPv6 (::ffff:127.0.0.1) is judged as the IPv4 address it is.
  const range = ipaddr.process(address).range();
  if (range === 'unicast' || (policy.allowLocal && LOCAL_RANGES.has(range))) return undefined;
  const what = RANGE_NAMES[range] ?? `a reserved address (${range})`;
  return `${address}, ${what}: ${PUBLIC_ONLY}${LOCAL_RANGES.has(range) ? LOCAL_HINT : ''}`;
}

/** The hostname as an IP address when it is one ([::1] → ::1), else undefined. */
function literalAddress(hostname: string): string | undefined {
  const bare = hostname.replace(/^\[(.*)\]$/, '$1');
  return ipaddr.isValid(bare) ? bare : undefined;
}

/** `localhost` and its subdomains (RFC 6761), with or without the root's trailing dot. */
const isLocalhostName = (hostname: string) => /(^|\.)localhost\.?$/.test(hostname);

/** The checks that need no DNS: the scheme, and a hostname that is an address or `localhost`. */
export function checkUrlShape(url: URL, policy: WebhookUrlPolicy): void {
  if (url.protocol !== 'https:' && !(policy.allowLocal && url.protocol === 'http:')) {
    throw new WebhookUrlError(
      'url must use https:// (WEBHOOK_ALLOW_LOCAL=true admits http:// too, for development only)',
    );
  }
  if (url.username || url.password) throw new WebhookUrlError('url must not carry a user name or password');
  const address = literalAddress(url.hostname);
  const refused = address
    ? refusedAddress(address, policy)
    : isLocalhostName(url.hostname) && !policy.allowLocal
      ? `${url.hostname}, a loopback name: ${PUBLIC_ONLY}${LOCAL_HINT}`
      : undefined;
  if (refused) throw new WebhookUrlError(`url refused: it points at ${refused}`);
}

/** How long registration waits for DNS; a slower name is taken, and checked again at each connection. */
const REGISTRATION_LOOKUP_MS = 2_000;

/**
 * The registration check: the shape, then every address the name resolves to now. A name that
 * does not resolve (yet) is taken: each delivery checks the address it connects to anyway.
 */
export async function checkWebhookUrl(url: URL, policy: WebhookUrlPolicy): Promise<void> {
  checkUrlShape(url, policy);
  if (literalAddress(url.hostname) || isLocalhostName(url.hostname)) return;
  const addresses = await resolveAll(url.hostname);
  for (const { address } of addresses) {
    const refused = refusedAddress(address, policy);
    if (refused) throw new WebhookUrlError(`url refused: ${url.hostname} resolves to ${refused}`);
  }
}

function resolveAll(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve([]), REGISTRATION_LOOKUP_MS);
    lookup(hostname, { all: true }, (error, addresses) => {
      clearTimeout(timer);
      resolve(error ? [] : addresses);
    });
  });
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `dns.lookup` for sockets that only ever yields addresses the policy admits: the connection is
 * made to the address checked, so a name that resolves elsewhere than at registration is refused.
 */
export function guardedLookup(policy: WebhookUrlPolicy) {
  return (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const allowed = addresses.filter(({ address }) => refusedAddress(address, policy) === undefined);
      const first = allowed[0];
      if (!first) {
        const refused = refusedAddress(addresses[0]?.address ?? hostname, policy) ?? 'no address';
        return callback(new WebhookUrlError(`${hostname} resolves to ${refused}`), []);
      }
      if (options.all) return callback(null, allowed);
      callback(null, first.address, first.family);
    });
  };
}

/** The HTTP agent webhooks are sent with: every connection it opens goes through the guarded lookup. */
export function webhookAgent(policy: WebhookUrlPolicy): Agent {
  return new Agent({ connect: { lookup: guardedLookup(policy) }, keepAliveTimeout: 10_000 });
}
