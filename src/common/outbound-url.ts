import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Rules for URLs this service calls on someone's behalf (event endpoints, agent URLs): http(s)
 * only, and never an address inside our own network (private, loopback, link-local, unique-local,
 * CGNAT, unspecified, the cloud metadata service...) unless private addresses are allowed. A
 * hostname is checked when it is resolved, for each connection (see guardedLookup), so a name that
 * later resolves to 127.0.0.1 is refused too.
 */

/** The only ranges ipaddr.js names that a public endpoint may live in. */
const PUBLIC_RANGES = new Set(['unicast']);

/** Why `address` (an IP literal) may not be called, or null when it may. */
export function refusedAddress(address: string): string | null {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  // ::ffff:127.0.0.1 is 127.0.0.1
  const parsed = ipaddr.process(address);
  const range = parsed.range();
  return PUBLIC_RANGES.has(range) ? null : `${address} is a ${range} address`;
}

function hostOf(url: URL): string {
  // new URL keeps IPv6 literals in brackets
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * Why `value` is not an acceptable outbound URL (syntax, scheme, credentials, an IP literal in a
 * refused range), or null. A hostname passes here; its addresses are checked when connecting.
 */
export function outboundUrlProblem(value: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http or https URL';
  if (url.username || url.password) return 'must not carry a user name or password';
  const host = hostOf(url);
  if (!host) return 'must name a host';
  if (allowPrivate) return null;
  if (isIP(host)) {
    const refused = refusedAddress(host);
    return refused ? `refused: ${refused} (set ALLOW_PRIVATE_WEBHOOK_URLS=true to allow private addresses)` : null;
  }
  if (host === 'localhost' || host.endsWith('.localhost')) {
    return 'refused: localhost is a loopback name (set ALLOW_PRIVATE_WEBHOOK_URLS=true to allow private addresses)';
  }
  return null;
}

export class RefusedAddressError extends Error {
  readonly code = 'EREFUSEDADDRESS';
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request / net.connect that resolves as usual and fails the connection when
 * any address the name resolves to is refused, so a check and the connection can never disagree
 * (no window for DNS rebinding).
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      if (!allowPrivate) {
        for (const { address } of addresses) {
          const refused = refusedAddress(address);
          if (refused) return callback(new RefusedAddressError(`${hostname} resolves to ${address}: refused, ${refused}`), []);
        }
      }
      if (options.all) return callback(null, addresses);
      const [first] = addresses;
      return callback(null, first.address, first.family);
    });
  };
}
