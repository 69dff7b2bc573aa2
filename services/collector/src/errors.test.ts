import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { INGEST_REJECTIONS } from '@calwatch/ingest';
import { SHARED_ERRORS } from '@calwatch/model';
import { COLLECTOR_ERRORS, httpStatusOf } from './errors';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('collector error codes', () => {
  it('are prefixed, documented, apart from other packages and in the README', () => {
    const others = new Set([...Object.keys(SHARED_ERRORS.table), ...Object.keys(INGEST_REJECTIONS.table)]);
    for (const [code, spec] of Object.entries(COLLECTOR_ERRORS.table)) {
      expect(code).toMatch(/^COLLECTOR_[A-Z_]+$/);
      expect(others.has(code)).toBe(false);
      expect(spec.description.length).toBeGreaterThan(20);
      expect([400, 401, 403, 404, 413, 415, 429, 500, 503]).toContain(spec.httpStatus);
      expect(README).toContain(`| \`${code}\` | ${spec.httpStatus} |`);
    }
  });

  it('map to HTTP status, 500 for unknown codes', () => {
    expect(httpStatusOf('COLLECTOR_BUSY')).toBe(429);
    expect(httpStatusOf('COLLECTOR_KAFKA_UNAVAILABLE')).toBe(503);
    expect(httpStatusOf('SOMETHING_ELSE')).toBe(500);
  });
});
