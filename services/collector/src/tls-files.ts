import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { Logger } from '@calwatch/runtime';
import { COLLECTOR_ERRORS } from './errors';

/** The HTTPS API's files (COLLECTOR_TLS_*). */
export interface TlsFilePaths {
  certFile: string;
  keyFile: string;
  /** Clients must present a certificate this CA signed. */
  caFile?: string;
}

/** Reads the files and checks that they make a usable context (the key fits the certificate). */
export async function readTlsFiles(paths: TlsFilePaths): Promise<SecureContextOptions> {
  let options: SecureContextOptions;
  try {
    const [cert, key, ca] = await Promise.all([
      readFile(paths.certFile),
      readFile(paths.keyFile),
      paths.caFile === undefined ? undefined : readFile(paths.caFile),
    ]);
    options = { cert, key, ...(ca === undefined ? {} : { ca }) };
    createSecureContext(options);
  } catch (error) {
    throw COLLECTOR_ERRORS.create('COLLECTOR_TLS_FILES_UNREADABLE', `cannot use the TLS files ${describePaths(paths)}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
      context: { ...paths },
    });
  }
  return options;
}

/** Server options for https.createServer: client certificates are required only with a CA. */
export function buildHttpsServerOptions(files: SecureContextOptions, paths: TlsFilePaths): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean; minVersion: 'TLSv1.2' } {
  const mutual = paths.caFile !== undefined;
  return { ...files, requestCert: mutual, rejectUnauthorized: mutual, minVersion: 'TLSv1.2' };
}

function describePaths(paths: TlsFilePaths): string {
  return [paths.certFile, paths.keyFile, paths.caFile].filter((p) => p !== undefined).join(', ');
}

export interface TlsReloaderOptions {
  paths: TlsFilePaths;
  /** Swaps the context of the listening server (tls.Server#setSecureContext). */
  apply: (options: SecureContextOptions) => void;
  logger: Logger;
  pollMs: number;
}

export interface TlsReloader {
  /** First read; throws COLLECTOR_TLS_FILES_UNREADABLE (the collector must not start on plain HTTP by accident). */
  load(): Promise<SecureContextOptions>;
  /** Re-reads the files when they changed; a broken set (a half-written key) keeps the certificate in force. */
  check(): Promise<void>;
  watch(): void;
  close(): void;
}

/**
 * Keeps the HTTPS API on the current certificate: certificate managers replace the files
 * (often by rename, so the folders are watched) and the server takes the new context for
 * new connections without a restart. A poll catches what notifications miss.
 */
export function createTlsReloader(options: TlsReloaderOptions): TlsReloader {
  const { paths, logger } = options;
  const files = [paths.certFile, paths.keyFile, ...(paths.caFile === undefined ? [] : [paths.caFile])];
  const watchers: FSWatcher[] = [];
  let poller: NodeJS.Timeout | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let fingerprint: string | undefined;
  let checking: Promise<void> = Promise.resolve();

  async function fingerprintOf(): Promise<string> {
    const parts = await Promise.all(
      files.map(async (file) => {
        const info = await stat(file).catch(() => undefined);
        return info === undefined ? `${file}:missing` : `${file}:${info.ino}:${info.size}:${info.mtimeMs}`;
      }),
    );
    return parts.join('|');
  }

  async function checkOnce(): Promise<void> {
    const current = await fingerprintOf();
    if (fingerprint === undefined) {
      fingerprint = current;
      return;
    }
    if (current === fingerprint) return;
    try {
      options.apply(await readTlsFiles(paths));
      fingerprint = current;
      logger.info({ files }, 'TLS certificate reloaded');
    } catch (error) {
      logger.error({ err: error, files }, 'TLS files changed but cannot be used; the certificate in force stays');
    }
  }

  function check(): Promise<void> {
    checking = checking.then(checkOnce);
    return checking;
  }

  function schedule(): void {
    clearTimeout(debounce);
    debounce = setTimeout(() => void check(), 50);
    debounce.unref();
  }

  return {
    async load() {
      const before = await fingerprintOf();
      const loaded = await readTlsFiles(paths);
      fingerprint = before;
      return loaded;
    },
    check,
    watch() {
      if (poller !== undefined) return;
      void check();
      for (const dir of new Set(files.map((file) => dirname(file)))) {
        const names = new Set(files.filter((file) => dirname(file) === dir).map((file) => basename(file)));
        try {
          const watcher = watch(dir, (_event, changed) => {
            if (changed === null || names.has(changed)) schedule();
          });
          watcher.on('error', (error) => logger.warn({ err: error, dir }, 'TLS folder watch failed; polling only'));
          watchers.push(watcher);
        } catch (error) {
          logger.warn({ err: error, dir }, 'cannot watch the TLS folder; polling only');
        }
      }
      poller = setInterval(() => void check(), options.pollMs);
      poller.unref();
    },
    close() {
      clearInterval(poller);
      clearTimeout(debounce);
      for (const watcher of watchers.splice(0)) watcher.close();
    },
  };
}
