import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The bearer tokens the API accepts. Tokens come from two places (the environment and a
 * file that may be rotated at run time); each part is replaced as a whole.
 */
export interface TokenStore {
  /** Replaces the tokens of one origin (e.g. 'env', 'file'). */
  replace(origin: string, tokens: readonly string[]): void;
  /** Checks an Authorization header value; constant time in the token contents. */
  verify(authorization: string | undefined): boolean;
  count(): number;
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function createTokenStore(): TokenStore {
  const byOrigin = new Map<string, Buffer[]>();
  let all: Buffer[] = [];
  return {
    replace(origin, tokens) {
      byOrigin.set(origin, [...new Set(tokens)].map(digest));
      all = [...byOrigin.values()].flat();
    },
    verify(authorization) {
      const match = authorization === undefined ? null : BEARER.exec(authorization);
      // Compare digests (equal lengths) against every token without stopping early, so
      // neither a token's length nor its position leaks through timing.
      const presented = digest(match?.[1] ?? '');
      let found = false;
      for (const known of all) found = timingSafeEqual(presented, known) || found;
      return match !== null && found;
    },
    count() {
      return all.length;
    },
  };
}

/** Reads a tokens file: one token per line, blank lines and `#` comments ignored. */
export function parseTokensFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'));
}
