import { InvalidTransportUrlError } from './errors.js';

/**
 * Parses a broker URL and checks its scheme and host, with the error every transport gives: the
 * transport then reads its own query parameters from the result.
 */
export function parseServerUrl(url: string, options: { schemes: readonly string[]; example: string }): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidTransportUrlError(url, `not a valid URL; expected ${options.example}`);
  }
  if (!options.schemes.includes(parsed.protocol.slice(0, -1))) {
    throw new InvalidTransportUrlError(url, `the scheme must be ${options.schemes.map((s) => `${s}:`).join(' or ')}`);
  }
  if (!parsed.hostname) throw new InvalidTransportUrlError(url, `give a host, like ${options.example}`);
  return parsed;
}
