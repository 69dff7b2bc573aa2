import { describe, expect, it } from 'vitest';
import { classifyResponse, parseRetryAfterMs } from './http-response';

const NOW = Date.parse('2024-06-12T09:30:00.000Z');

describe('parseRetryAfterMs', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfterMs('7', NOW)).toBe(7000);
    expect(parseRetryAfterMs(' 0 ', NOW)).toBe(0);
    expect(parseRetryAfterMs('Wed, 12 Jun 2024 09:30:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfterMs('Wed, 12 Jun 2024 09:00:00 GMT', NOW)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    expect(parseRetryAfterMs(null, NOW)).toBeUndefined();
    expect(parseRetryAfterMs('soon', NOW)).toBeUndefined();
    expect(parseRetryAfterMs('-5', NOW)).toBeUndefined();
  });
});

describe('classifyResponse', () => {
  const slack = { name: 'slack-oncall', type: 'slack' };
  const teams = { name: 'teams', type: 'teams' };

  it('2xx is delivered', () => {
    expect(classifyResponse(slack, { status: 200, retryAfter: null, body: 'ok' }, NOW)).toBeUndefined();
    expect(classifyResponse(teams, { status: 202, retryAfter: null, body: '' }, NOW)).toBeUndefined();
  });

  it('429 and 5xx are retriable, with Retry-After when given', () => {
    const limited = classifyResponse(slack, { status: 429, retryAfter: '3', body: '' }, NOW);
    expect(limited).toMatchObject({ code: 'NOTIFIER_TARGET_RATE_LIMITED', retriable: true, context: { retryAfterMs: 3000, status: 429 } });
    expect(classifyResponse(slack, { status: 503, retryAfter: null, body: '' }, NOW)).toMatchObject({ code: 'NOTIFIER_TARGET_UNAVAILABLE', retriable: true });
    expect(classifyResponse(slack, { status: 408, retryAfter: null, body: '' }, NOW)).toMatchObject({ code: 'NOTIFIER_TARGET_UNAVAILABLE', retriable: true });
  });

  it('other 4xx are rejected for good', () => {
    const rejected = classifyResponse(slack, { status: 404, retryAfter: null, body: 'no_service' }, NOW);
    expect(rejected).toMatchObject({ code: 'NOTIFIER_TARGET_REJECTED', retriable: false });
    expect(rejected?.message).toBe('target slack-oncall: HTTP 404: no_service');
  });

  it('a Teams connector reporting 429 inside a 200 is throttled', () => {
    const body = 'Microsoft Teams endpoint returned HTTP error 429 with ContextId ...';
    expect(classifyResponse(teams, { status: 200, retryAfter: null, body }, NOW)).toMatchObject({ code: 'NOTIFIER_TARGET_RATE_LIMITED' });
    expect(classifyResponse(slack, { status: 200, retryAfter: null, body }, NOW)).toBeUndefined();
  });
});
