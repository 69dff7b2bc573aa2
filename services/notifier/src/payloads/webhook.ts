import { createHmac } from 'node:crypto';
import { CALWATCH_VERSION } from '@calwatch/runtime';
import type { Notification } from '../notification';
import { factsOf } from './text';

/** The generic webhook body: the notification itself, tagged. */
export function buildWebhookBody(n: Notification): Record<string, unknown> {
  return { type: 'calwatch.alert', version: CALWATCH_VERSION, ...n, facts: Object.fromEntries(factsOf(n)) };
}

/**
 * Signature over `<timestamp>.<body>` (HMAC-SHA256, hex), sent as
 * `X-Calwatch-Signature: sha256=<hex>` with `X-Calwatch-Timestamp: <unix seconds>`; the
 * timestamp lets a receiver refuse replays.
 */
export function signWebhookBody(body: string, secret: string, timestampSeconds: number): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}
