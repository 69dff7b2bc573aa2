import { createHash, timingSafeEqual } from 'node:crypto';
import { normalizeComputer } from '@calwatch/model';

/**
 * What a valid token may post: every license server (`servers` null) or only the listed
 * ones (normalized names). A token handed to one license server's export task should not
 * be able to write another server's snapshot.
 */
export interface TokenGrant {
  servers: ReadonlySet<string> | null;
}

/**
 * The bearer tokens the API accepts. Tokens come from two places (the environment and a
 * file that may be rotated at run time); each part is replaced as a whole.
 */
export interface TokenStore {
  /** Replaces the tokens of one origin (e.g. 'env', 'file'); entries as read by splitTokenEntry. */
  replace(origin: string, entries: readonly string[]): void;
  /** The grant of an Authorization header value, or undefined; constant time in the token contents. */
  authorize(authorization: string | undefined): TokenGrant | undefined;
  /** Checks an Authorization header value (any scope). */
  verify(authorization: string | undefined): boolean;
  count(): number;
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const SERVER_LIST = /^[A-Za-z0-9][A-Za-z0-9._-]*(?:\|[A-Za-z0-9][A-Za-z0-9._-]*)*$/;
const ALL_SERVERS: TokenGrant = Object.freeze({ servers: null });

/**
 * Reads one configured token: `token` (every license server) or `token=LS01|LS02` (only
 * those). The split is at the last `=` and only when a server list follows, so a base64
 * token ending in `=` stays whole.
 */
export function splitTokenEntry(entry: string): { token: string; servers: string[] | null } {
  const at = entry.lastIndexOf('=');
  const list = at > 0 ? entry.slice(at + 1) : '';
  if (list === '' || !SERVER_LIST.test(list)) return { token: entry, servers: null };
  return { token: entry.slice(0, at), servers: list.split('|').map(normalizeComputer) };
}

/** True when the grant covers this license server (any spelling normalizeComputer folds together). */
export function grantCovers(grant: TokenGrant, licenseServer: string): boolean {
  return grant.servers === null || grant.servers.has(normalizeComputer(licenseServer));
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

interface KnownToken {
  digest: Buffer;
  grant: TokenGrant;
}

export function createTokenStore(): TokenStore {
  const byOrigin = new Map<string, KnownToken[]>();
  let all: KnownToken[] = [];

  function authorize(authorization: string | undefined): TokenGrant | undefined {
    const match = authorization === undefined ? null : BEARER.exec(authorization);
    // Compare digests (equal lengths) against every token without stopping early, so
    // neither a token's length nor its position leaks through timing.
    const presented = digest(match?.[1] ?? '');
    let found: TokenGrant | undefined;
    for (const known of all) {
      if (timingSafeEqual(presented, known.digest)) found ??= known.grant;
    }
    return match === null ? undefined : found;
  }

  return {
    replace(origin, entries) {
      const tokens = new Map<string, TokenGrant>();
      for (const entry of entries) {
        const { token, servers } = splitTokenEntry(entry);
        if (token === '') continue;
        const previous = tokens.get(token);
        // The same token listed twice: its scopes add up (an unscoped listing wins).
        if (servers === null || previous?.servers === null) tokens.set(token, ALL_SERVERS);
        else tokens.set(token, { servers: new Set([...(previous?.servers ?? []), ...servers]) });
      }
      byOrigin.set(
        origin,
        [...tokens].map(([token, grant]) => ({ digest: digest(token), grant })),
      );
      all = [...byOrigin.values()].flat();
    },
    authorize,
    verify(authorization) {
      return authorize(authorization) !== undefined;
    },
    count() {
      return all.length;
    },
  };
}

/** Reads a tokens file: one entry per line (`token` or `token=LS01|LS02`), blank lines and `#` comments ignored. */
export function parseTokensFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'));
}
