/** What every service uses: config, logging, lifecycle, readiness, probes, metrics, retries. */
export * from './config';
export * from './connection-config';
export * from './logger';
export * from './lifecycle';
export * from './readiness';
export * from './probe-server';
export * from './service-metrics';
export * from './partition-progress';
export * from './retry';
export * from './version';
export * from './json-file';
