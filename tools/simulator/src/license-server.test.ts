import { describe, expect, it } from 'vitest';
import { buildComputer, buildHwid, type CanonicalEvent } from '@calwatch/model';
import { DAY_MS } from './fleet';
import { KEY_PACK_IDS, LicenseServerModel, RULES, type Connection } from './license-server';
import { createRandom } from './random';
import { createEventLog } from './service-events';

const T0 = Date.parse('2024-03-04T08:00:00.000Z');
const source = { kind: 'simulator' as const, ref: 'test' };

function createServer(options: { pool: number; temporaryFirst?: boolean; seed?: number }) {
  const events: CanonicalEvent[] = [];
  const server = new LicenseServerModel({
    name: 'LS01',
    pool: options.pool,
    temporaryFirst: options.temporaryFirst ?? true,
    random: createRandom(options.seed ?? 7),
    log: createEventLog({ licenseServer: 'LS01', licenseServerFqdn: 'LS01.corp.example', domain: 'corp.example', product: 'P', source }),
    source,
    emit: (e) => events.push(e),
  });
  return { server, events };
}

function client(n: number, name = `WS-${n}`): (atMs: number, host?: string) => Connection {
  const hwid = buildHwid(`00000002-${String(n).padStart(8, '0')}`)!;
  const computer = buildComputer(name);
  return (atMs, host = 'RDSH01') => ({ atMs, hwid, computer, user: 'u', sessionHost: host, scenario: -1, device: n });
}

const codes = (events: CanonicalEvent[]): number[] =>
  events.flatMap((e) => (e.type === 'service.event' ? [e.event.code] : []));
const types = (events: CanonicalEvent[]): string[] => events.map((e) => e.type);

describe('license server model', () => {
  it('issues a 90-day temporary CAL first and upgrades it to a 52–89 day permanent one on a later connection', () => {
    const { server, events } = createServer({ pool: 5 });
    const pc = client(1);
    const first = server.connect(pc(T0));
    expect(first.action).toBe('issued');
    if (first.action !== 'issued') return;
    expect(first.license.fact.status).toBe('temporary');
    expect(first.license.fact.keyPackId).toBe(KEY_PACK_IDS.temporary);
    expect(first.license.expiresAtMs - T0).toBe(RULES.temporaryDays * DAY_MS);
    expect(server.available).toBe(5);

    const later = T0 + 4 * 3_600_000;
    const second = server.connect(pc(later));
    expect(second.action).toBe('upgraded');
    if (second.action !== 'upgraded') return;
    expect(second.license.fact.licenseId).toBe(first.license.fact.licenseId);
    expect(second.license.fact.status).toBe('active');
    expect(second.license.fact.keyPackId).toBe(KEY_PACK_IDS.permanent);
    const days = (second.license.expiresAtMs - later) / DAY_MS;
    expect(days).toBeGreaterThanOrEqual(52);
    expect(days).toBeLessThanOrEqual(89);
    expect(server.available).toBe(4);
    expect(types(events)).toEqual(['license.issued', 'license.upgraded']);
  });

  it('issues a permanent CAL at once when the policy does not ask for a temporary first', () => {
    const { server } = createServer({ pool: 1, temporaryFirst: false });
    const outcome = server.connect(client(1)(T0));
    expect(outcome.action === 'issued' && outcome.license.fact.status).toBe('active');
    // The pool is empty now: the next new device gets a temporary and event 21.
    const next = server.connect(client(2)(T0 + 1000));
    expect(next.action === 'issued' && next.license.fact.status).toBe('temporary');
    expect(next.poolEmpty).toBe(true);
  });

  it('renews only within 7 days of expiry, for another 52–89 days', () => {
    const { server, events } = createServer({ pool: 5 });
    const pc = client(1);
    server.connect(pc(T0));
    const up = server.connect(pc(T0 + 1000));
    if (up.action !== 'upgraded') throw new Error('expected an upgrade');
    const expiry = up.license.expiresAtMs;

    expect(server.connect(pc(expiry - 7 * DAY_MS - 1000)).action).toBe('kept');
    const at = expiry - 7 * DAY_MS + 1000;
    const renewed = server.connect(pc(at));
    expect(renewed.action).toBe('renewed');
    if (renewed.action !== 'renewed') return;
    const days = (renewed.license.expiresAtMs - at) / DAY_MS;
    expect(days).toBeGreaterThanOrEqual(52);
    expect(days).toBeLessThanOrEqual(89);
    expect(Number.isInteger(days)).toBe(true);
    expect(types(events).filter((t) => t === 'license.renewed')).toHaveLength(1);
    // Renewal keeps the CAL: nothing more is taken from the pool.
    expect(server.available).toBe(4);
  });

  it('draws renewal periods across the whole 52–89 day range', () => {
    const { server } = createServer({ pool: 400, temporaryFirst: false, seed: 3 });
    const seen = new Set<number>();
    for (let i = 0; i < 400; i += 1) {
      const outcome = server.connect(client(i)(T0));
      if (outcome.action === 'issued') seen.add(Math.round((outcome.license.expiresAtMs - T0) / DAY_MS));
    }
    expect(Math.min(...seen)).toBe(52);
    expect(Math.max(...seen)).toBe(89);
    expect(seen.size).toBe(38);
  });

  it('returns an expired CAL to the pool (automatic reclamation)', () => {
    const { server, events } = createServer({ pool: 1 });
    const pc = client(1);
    server.connect(pc(T0));
    const up = server.connect(pc(T0 + 1000));
    if (up.action !== 'upgraded') throw new Error('expected an upgrade');
    expect(server.available).toBe(0);
    server.reclaimUntil(up.license.expiresAtMs - 1);
    expect(server.licenses()).toHaveLength(1);
    server.reclaimUntil(up.license.expiresAtMs);
    expect(server.licenses()).toHaveLength(0);
    expect(server.available).toBe(1);
    const returned = events.at(-1)!;
    expect(returned.type === 'license.returned' && returned.reason).toBe('expired');
    expect(returned.eventTime).toBe(new Date(up.license.expiresAtMs).toISOString());
  });

  it('keeps a temporary CAL when the pool is empty, logs 21 once per session host and day, and refuses with 1011 after it expires', () => {
    const { server, events } = createServer({ pool: 1 });
    const a = client(1);
    const b = client(2);
    server.connect(a(T0));
    server.connect(a(T0 + 1000)); // takes the only permanent CAL
    server.connect(b(T0 + 2000));
    expect(server.connect(b(T0 + 3000, 'RDSH01'))).toMatchObject({ action: 'kept', poolEmpty: true });
    server.connect(b(T0 + 4000, 'RDSH01'));
    server.connect(b(T0 + 5000, 'RDSH02'));
    server.connect(b(T0 + DAY_MS, 'RDSH01'));
    expect(codes(events)).toEqual([20, 21, 21, 21]);
    const noPermanent = events.find((e) => e.type === 'service.event' && e.event.code === 21);
    expect(noPermanent?.type === 'service.event' && noPermanent.event.params).toEqual({ param1: 'LS01', param2: 'P', param3: 'RDSH01' });

    const afterTemporary = T0 + 2000 + RULES.temporaryDays * DAY_MS + 1000;
    // Keep a's permanent CAL alive so the pool stays empty.
    server.connect(a(afterTemporary - 3 * DAY_MS));
    const refused = server.connect(b(afterTemporary));
    expect(refused).toMatchObject({ action: 'refused', code: 1011 });
    const last = events.at(-1)!;
    expect(last.type === 'service.event' && last.event).toMatchObject({ code: 1011, host: 'RDSH01.corp.example', params: { param1: 'WS-2' } });
  });

  it('refuses with 1028 when a permanent CAL expired and none is free to replace it', () => {
    const { server, events } = createServer({ pool: 1 });
    const a = client(1);
    server.connect(a(T0));
    const up = server.connect(a(T0 + 1000));
    if (up.action !== 'upgraded') throw new Error('expected an upgrade');
    // a stays away past expiry; meanwhile b takes the freed CAL.
    const b = client(2);
    server.connect(b(up.license.expiresAtMs + 1000));
    server.connect(b(up.license.expiresAtMs + 2000));
    expect(server.connect(a(up.license.expiresAtMs + 3000))).toMatchObject({ action: 'refused', code: 1028 });
    expect(codes(events)).toContain(1028);
  });

  it('re-issues when the same HWID arrives under another name (the cloned-image ping-pong)', () => {
    const { server } = createServer({ pool: 10 });
    const one = client(1, 'WS-A');
    const twin = (atMs: number) => ({ ...one(atMs), computer: buildComputer('WS-B') });
    const ids = new Set<number>();
    let at = T0;
    for (let round = 0; round < 3; round += 1) {
      for (const connect of [one, twin]) {
        const outcome = server.connect(connect((at += 60_000)));
        if (outcome.action === 'issued') ids.add(outcome.license.fact.licenseId);
      }
    }
    expect(ids.size).toBe(6);
    const names = new Set(server.licenses().map((l) => l.computer.norm));
    expect(names).toEqual(new Set(['WS-A', 'WS-B']));
    expect(new Set(server.licenses().map((l) => l.hwid.norm)).size).toBe(1);
  });

  it('revokes surplus CALs up to 20 % of the pool, then logs 81; revoked CALs free the pool but stay listed until expiry', () => {
    const pool = 10;
    const { server, events } = createServer({ pool, temporaryFirst: false });
    const shared = 'WS-DUP';
    for (let i = 0; i < 6; i += 1) server.connect(client(i, shared)(T0 + i * 1000));
    expect(server.available).toBe(4);
    const revoked = server.revokeSurplus(T0 + DAY_MS);
    expect(revoked).toBe(2);
    expect(server.available).toBe(6);
    const table = server.licenses();
    expect(table).toHaveLength(6);
    expect(table.filter((l) => l.status === 'revoked').map((l) => l.licenseId)).toEqual([1, 2]);
    const limit = events.find((e) => e.type === 'service.event' && e.event.code === 81);
    expect(limit?.type === 'service.event' && limit.event).toMatchObject({
      revokedCount: 2,
      installedCount: pool,
      client: { norm: 'WS-DUP' },
    });
    const firstRevokedExpiry = Math.min(...table.filter((l) => l.status === 'revoked').map((l) => Date.parse(l.expirationDate!)));
    expect(limit?.type === 'service.event' && limit.event.nextRevokeAllowedAt).toBe(new Date(firstRevokedExpiry).toISOString());
    expect(codes(events).filter((c) => c === 80)).toHaveLength(2);

    // The revoked device comes back: its HWID has no live CAL, so it gets a new one.
    const back = server.connect(client(0, shared)(T0 + 2 * DAY_MS));
    expect(back.action === 'issued' && back.license.fact.licenseId).toBe(7);
  });
});
