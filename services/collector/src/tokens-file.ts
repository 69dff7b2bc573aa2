import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from '@calwatch/runtime';
import { MIN_TOKEN_LENGTH } from './config';
import { COLLECTOR_ERRORS } from './errors';
import { parseTokensFile, splitTokenEntry, type TokenStore } from './token-auth';

export interface TokensFileOptions {
  path: string;
  store: TokenStore;
  logger: Logger;
  pollMs: number;
}

export interface TokensFile {
  /** First read; throws COLLECTOR_TOKENS_FILE_UNREADABLE (a collector must not start half-configured). */
  load(): Promise<void>;
  /** Re-reads the file; on failure the tokens in force stay (a half-written file locks nobody out). */
  reload(): Promise<void>;
  /** Watches the folder (editors and secret managers replace the file by rename) and polls. */
  watch(): void;
  close(): void;
}

export const TOKENS_ORIGIN_FILE = 'file';

export function createTokensFile(options: TokensFileOptions): TokensFile {
  const { path, store, logger } = options;
  const name = basename(path);
  let watcher: FSWatcher | undefined;
  let poller: NodeJS.Timeout | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let fingerprint = '';
  let reloading: Promise<void> = Promise.resolve();

  async function read(): Promise<void> {
    let text: string;
    let info: { mtimeMs: number; size: number; ino: number };
    try {
      info = await stat(path);
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw COLLECTOR_ERRORS.create('COLLECTOR_TOKENS_FILE_UNREADABLE', `cannot read tokens file ${path}`, { cause: error, context: { path } });
    }
    const all = parseTokensFile(text);
    const tokens = all.filter((entry) => splitTokenEntry(entry).token.length >= MIN_TOKEN_LENGTH);
    if (tokens.length < all.length) {
      logger.warn({ path, ignored: all.length - tokens.length }, `tokens shorter than ${MIN_TOKEN_LENGTH} characters ignored`);
    }
    fingerprint = `${info.ino}:${info.size}:${info.mtimeMs}`;
    store.replace(TOKENS_ORIGIN_FILE, tokens);
    logger.info({ path, tokens: tokens.length }, 'tokens file loaded');
  }

  function reload(): Promise<void> {
    reloading = reloading.then(() =>
      read().catch((error: unknown) => {
        logger.error({ err: error, path }, 'tokens file reload failed; the previous tokens stay in force');
      }),
    );
    return reloading;
  }

  function schedule(): void {
    clearTimeout(debounce);
    debounce = setTimeout(() => void reload(), 50);
    debounce.unref();
  }

  return {
    load: read,
    reload,
    watch() {
      if (watcher !== undefined) return;
      try {
        watcher = watch(dirname(path), (_event, changed) => {
          if (changed === null || changed === name) schedule();
        });
        watcher.on('error', (error) => logger.warn({ err: error, path }, 'tokens folder watch failed; polling only'));
      } catch (error) {
        logger.warn({ err: error, path }, 'tokens folder cannot be watched; polling only');
      }
      poller = setInterval(() => {
        stat(path).then(
          (info) => {
            if (`${info.ino}:${info.size}:${info.mtimeMs}` !== fingerprint) schedule();
          },
          () => undefined,
        );
      }, options.pollMs);
      poller.unref();
    },
    close() {
      watcher?.close();
      watcher = undefined;
      clearInterval(poller);
      clearTimeout(debounce);
    },
  };
}
