import { describe, expect, it } from 'vitest';
import { createTokenStore, grantCovers, parseTokensFile, splitTokenEntry } from './token-auth';

describe('token store', () => {
  it('accepts only configured bearer tokens', () => {
    const store = createTokenStore();
    store.replace('env', ['alpha-token-0123456789']);
    store.replace('file', ['beta-token-0123456789']);
    expect(store.verify('Bearer alpha-token-0123456789')).toBe(true);
    expect(store.verify('bearer beta-token-0123456789')).toBe(true);
    expect(store.verify('Bearer  beta-token-0123456789 ')).toBe(true);
    expect(store.verify('Bearer alpha-token-012345678')).toBe(false);
    expect(store.verify('Bearer alpha-token-0123456789 extra')).toBe(false);
    expect(store.verify('alpha-token-0123456789')).toBe(false);
    expect(store.verify('Bearer ')).toBe(false);
    expect(store.verify(undefined)).toBe(false);
    expect(store.count()).toBe(2);
  });

  it('replaces one origin without touching the other (rotation)', () => {
    const store = createTokenStore();
    store.replace('env', ['env-token-0123456789']);
    store.replace('file', ['old-token-0123456789']);
    store.replace('file', ['new-token-0123456789']);
    expect(store.verify('Bearer old-token-0123456789')).toBe(false);
    expect(store.verify('Bearer new-token-0123456789')).toBe(true);
    expect(store.verify('Bearer env-token-0123456789')).toBe(true);
    store.replace('file', []);
    expect(store.verify('Bearer new-token-0123456789')).toBe(false);
    expect(store.count()).toBe(1);
  });

  it('an empty store accepts nothing, not even an empty token', () => {
    const store = createTokenStore();
    expect(store.verify('Bearer x')).toBe(false);
    store.replace('env', ['']);
    expect(store.verify('Bearer ')).toBe(false);
  });
});

describe('parseTokensFile', () => {
  it('reads one token per line, skipping blanks and comments', () => {
    expect(parseTokensFile('# rotated 2024-06\nfirst-token\r\n\n  second-token  \n#old-token\n')).toEqual(['first-token', 'second-token']);
  });
});

describe('scoped tokens', () => {
  it('reads `token=LS01|LS02` as a scope and keeps base64 padding and plain tokens whole', () => {
    expect(splitTokenEntry('alpha-token-0123456789=ls01|LS02.corp.example')).toEqual({ token: 'alpha-token-0123456789', servers: ['LS01', 'LS02'] });
    expect(splitTokenEntry('YWJjZGVmZ2hpamtsbW5vcA==')).toEqual({ token: 'YWJjZGVmZ2hpamtsbW5vcA==', servers: null });
    expect(splitTokenEntry('alpha-token-0123456789')).toEqual({ token: 'alpha-token-0123456789', servers: null });
    expect(splitTokenEntry('alpha=token=LS01')).toEqual({ token: 'alpha=token', servers: ['LS01'] });
    expect(splitTokenEntry('alpha-token=LS01|')).toEqual({ token: 'alpha-token=LS01|', servers: null });
  });

  it('grants a scoped token its servers only; an unscoped listing of the same token wins', () => {
    const store = createTokenStore();
    store.replace('env', ['scoped-token-0123456789=LS01', 'all-token-0123456789']);
    const scoped = store.authorize('Bearer scoped-token-0123456789')!;
    expect(grantCovers(scoped, 'ls01.corp.example')).toBe(true);
    expect(grantCovers(scoped, 'LS02')).toBe(false);
    expect(store.authorize('Bearer all-token-0123456789')!.servers).toBeNull();
    // The scope is not part of the token: presenting it with the suffix does not match.
    expect(store.authorize('Bearer scoped-token-0123456789=LS01')).toBeUndefined();
    store.replace('file', ['scoped-token-0123456789']);
    expect(store.authorize('Bearer scoped-token-0123456789')!.servers).not.toBeNull();
    store.replace('env', ['scoped-token-0123456789=LS01', 'scoped-token-0123456789=LS02', 'x-token-0123456789=LS03', 'x-token-0123456789']);
    expect([...store.authorize('Bearer x-token-0123456789')!.servers ?? ['all']]).toEqual(['all']);
  });
});
