import { describe, expect, it } from 'vitest';
import { formatPage, readPage, startWebhookReceiver, type ReceivedPage } from './webhook-receiver';

describe('webhook receiver', () => {
  it('takes POSTed pages on 127.0.0.1 and counts them', async () => {
    const pages: ReceivedPage[] = [];
    const receiver = await startWebhookReceiver((page) => pages.push(page));
    try {
      expect(receiver.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/calwatch$/);
      const body = { type: 'calwatch.alert', action: 'trigger', rule: 'pool-exhaustion', severity: 'critical', title: 'CAL pool exhausted', licenseServer: 'LS01', cals: 0 };
      const response = await fetch(receiver.url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      expect(response.status).toBe(200);
      expect((await fetch(receiver.url, { method: 'POST', body: 'not json' })).status).toBe(200);
      expect((await fetch(receiver.url)).status).toBe(405);
      expect(receiver.count()).toBe(1);
      expect(formatPage(pages[0]!)).toBe('PAGE TRIGGER [critical] pool-exhaustion: CAL pool exhausted (0 CALs)');
    } finally {
      await receiver.close();
    }
  });

  it('reads only what it needs of a body', () => {
    expect(readPage('[]')).toMatchObject({ action: '?', cals: null });
    expect(readPage('nope')).toBeUndefined();
  });
});
