import { describe, expect, it } from 'vitest';
import { createTokenStore, parseTokensFile } from './token-auth';

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
