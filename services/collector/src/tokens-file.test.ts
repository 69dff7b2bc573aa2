import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isCalwatchError } from '@calwatch/model';
import { createSilentLogger } from '@calwatch/runtime';
import { createTokenStore } from './token-auth';
import { createTokensFile, type TokensFile } from './tokens-file';
import { waitFor } from '../../../test/harness/wait-for';

const A = 'first-token-0123456789';
const B = 'second-token-0123456789';
let dir: string | undefined;
let file: TokensFile | undefined;

afterEach(async () => {
  file?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});


describe('tokens file', () => {
  it('fails the first load with a coded error when unreadable', async () => {
    const store = createTokenStore();
    const missing = createTokensFile({ path: '/nonexistent/tokens', store, logger: createSilentLogger(), pollMs: 1000 });
    const error = await missing.load().catch((e: unknown) => e);
    expect(isCalwatchError(error, 'COLLECTOR_TOKENS_FILE_UNREADABLE')).toBe(true);
  });

  it('picks up a rotated file (replaced by rename) without a restart, ignoring short tokens', async () => {
    dir = await mkdtemp(join(tmpdir(), 'calwatch-tokens-'));
    const path = join(dir, 'tokens');
    await writeFile(path, `${A}\nshort\n`);
    const store = createTokenStore();
    file = createTokensFile({ path, store, logger: createSilentLogger(), pollMs: 200 });
    await file.load();
    file.watch();
    expect(store.verify(`Bearer ${A}`)).toBe(true);
    expect(store.verify('Bearer short')).toBe(false);
    await writeFile(join(dir, 'tokens.new'), `# rotated\n${B}\n`);
    await rename(join(dir, 'tokens.new'), path);
    await waitFor(() => store.verify(`Bearer ${B}`), 3_000, 'the rewritten tokens file');
    expect(store.verify(`Bearer ${A}`)).toBe(false);
  });

  it('keeps the tokens in force when a reload cannot read the file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'calwatch-tokens-'));
    const path = join(dir, 'tokens');
    await writeFile(path, `${A}\n`);
    const store = createTokenStore();
    file = createTokensFile({ path, store, logger: createSilentLogger(), pollMs: 10_000 });
    await file.load();
    await rm(path);
    await file.reload();
    expect(store.verify(`Bearer ${A}`)).toBe(true);
  });
});
