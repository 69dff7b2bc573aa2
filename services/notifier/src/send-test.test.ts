import { isCalwatchError } from '@calwatch/model';
import { describe, expect, it } from 'vitest';
import { loadNotifierConfig } from './config';
import type { HttpPost } from './http-client';
import { sendTestNotification } from './send-test';

const config = loadNotifierConfig({
  NOTIFIER_TARGETS: JSON.stringify([
    { name: 'pd', type: 'pagerduty', routingKey: 'R0UTINGKEY0123' },
    { name: 'hook', type: 'webhook', url: 'https://hooks.example/in', minSeverity: 'critical' },
  ]),
  NOTIFIER_RETRY_MIN_DELAY_MS: '5',
  NOTIFIER_RETRY_MAX_DELAY_MS: '10',
});

function recording(statuses: number[]): { post: HttpPost; bodies: Array<Record<string, unknown>> } {
  const bodies: Array<Record<string, unknown>> = [];
  return {
    bodies,
    post: async (request) => {
      bodies.push(JSON.parse(request.body) as Record<string, unknown>);
      return { status: statuses.shift() ?? 200, retryAfter: null, body: '' };
    },
  };
}

describe('sendTestNotification', () => {
  it('sends a test to PagerDuty and resolves it, retrying on the way', async () => {
    const { post, bodies } = recording([503, 202, 202]);
    const result = await sendTestNotification({ config, targetName: 'pd', post });
    expect(result.steps.map((s) => [s.action, s.delivered, s.attempts])).toEqual([
      ['test', true, 2],
      ['resolve', true, 1],
    ]);
    expect(bodies.map((b) => b['event_action'])).toEqual(['trigger', 'trigger', 'resolve']);
    expect(bodies[2]!['dedup_key']).toBe(bodies[0]!['dedup_key']);
  });

  it('reaches a target whatever its severity filter, and reports a rejection', async () => {
    const { post, bodies } = recording([403]);
    const result = await sendTestNotification({ config, targetName: 'hook', post });
    expect(bodies[0]).toMatchObject({ action: 'test', severity: 'info' });
    expect(result.steps).toEqual([{ action: 'test', delivered: false, attempts: 1, error: expect.objectContaining({ code: 'NOTIFIER_TARGET_REJECTED' }) }]);
  });

  it('names the configured targets when asked for another', async () => {
    const error = await sendTestNotification({ config, targetName: 'nope' }).catch((e: unknown) => e);
    expect(isCalwatchError(error, 'NOTIFIER_UNKNOWN_TARGET')).toBe(true);
    expect((error as Error).message).toBe("no target named 'nope'; configured: pd, hook");
  });
});
