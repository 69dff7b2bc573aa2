/** What every service uses: config, logging, lifecycle, readiness, probes, retries. */
export * from './config';
export * from './connection-config';
export * from './logger';
export * from './lifecycle';
export * from './readiness';
export * from './probe-server';
export * from './retry';
export * from './version';
export * from './json-file';
