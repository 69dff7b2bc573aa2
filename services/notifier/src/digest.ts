import { FindingKind, Severity, type Finding } from '@calwatch/model';
import { z } from 'zod';
import { Notification } from './notification';

/**
 * The daily digest of low and info findings (they never page). Runs on the wall clock: a
 * digest is a message for people at an hour of their day, whereas event time stands still
 * while no input arrives and races through weeks in a replay. Pure: the caller passes the
 * wall clock, so tests drive it by hand.
 */

export interface DigestSettings {
  /** Targets that get the digest (beside their pages). */
  targets: readonly string[];
  /** Hour of the day (UTC) the digest goes out. */
  hourUtc: number;
  /** Findings named one by one; the rest are counted. */
  listed: number;
}

export const DigestEntry = z.object({
  findingId: z.string(),
  kind: FindingKind,
  severity: Severity,
  licenseServer: z.string(),
  change: z.enum(['opened', 'changed', 'resolved']),
  devices: z.array(z.string()),
  deviceCount: z.number().int().nonnegative(),
  revision: z.number().int().nonnegative(),
});
export type DigestEntry = z.infer<typeof DigestEntry>;

/** Beyond this many findings in one period, later ones are counted by kind but not named. */
export const DIGEST_ENTRIES_MAX = 200;

export const DigestState = z.object({
  /** The digest boundary (wall clock, ms) last sent; null: none yet. */
  lastAt: z.number().nullable(),
  /** Low/info findings opened, changed or resolved since, latest revision each. */
  entries: z.array(DigestEntry),
  /** Findings beyond DIGEST_ENTRIES_MAX, by kind. */
  more: z.record(z.string(), z.number().int().nonnegative()),
  seq: z.number().int().nonnegative(),
  /** Digests decided but not yet delivered, per target. */
  outbox: z.array(z.object({ target: z.string(), notification: Notification })),
});
export type DigestState = z.infer<typeof DigestState>;

export function emptyDigest(): DigestState {
  return { lastAt: null, entries: [], more: {}, seq: 0, outbox: [] };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The latest digest boundary (the hour, UTC) at or before `wallNowMs`. */
export function digestBoundary(wallNowMs: number, hourUtc: number): number {
  const today = Math.floor(wallNowMs / DAY_MS) * DAY_MS + hourUtc * HOUR_MS;
  return today <= wallNowMs ? today : today - DAY_MS;
}

/** Notes a finding update for the digest when it is low or info; returns whether the state changed. */
export function noteForDigest(state: DigestState, finding: Finding): boolean {
  if (finding.severity !== 'low' && finding.severity !== 'info') return false;
  const index = state.entries.findIndex((e) => e.findingId === finding.id);
  const previous = index === -1 ? undefined : state.entries[index]!;
  if (previous !== undefined && previous.revision >= finding.revision) return false;
  const change = finding.state === 'resolved' ? 'resolved' : previous?.change === 'opened' || finding.revision <= 1 ? 'opened' : 'changed';
  const names = finding.computers.length > 0 ? finding.computers : finding.hwids;
  const entry: DigestEntry = {
    findingId: finding.id,
    kind: finding.kind,
    severity: finding.severity,
    licenseServer: finding.licenseServer,
    change,
    devices: names.slice(0, 5),
    deviceCount: finding.computers.length > 0 ? finding.computerCount : finding.hwidCount,
    revision: finding.revision,
  };
  if (index !== -1) state.entries[index] = entry;
  else if (state.entries.length < DIGEST_ENTRIES_MAX) state.entries.push(entry);
  else state.more[finding.kind] = (state.more[finding.kind] ?? 0) + 1;
  return true;
}

/**
 * Whether a digest is due at `wallNowMs`: the last one was sent before the latest boundary.
 * A first start only marks the boundary (no digest for what came before the notifier ran);
 * a restart after a missed hour sends at once, one digest for the days missed.
 */
export function digestDue(state: DigestState, wallNowMs: number, hourUtc: number): 'init' | 'due' | 'not-due' {
  const boundary = digestBoundary(wallNowMs, hourUtc);
  if (state.lastAt === null) return 'init';
  return state.lastAt < boundary ? 'due' : 'not-due';
}

/** The digest as a notification (null when nothing happened since the last one: no message). */
export function buildDigest(state: DigestState, wallNowMs: number, settings: DigestSettings, link: string | null): Notification | null {
  const boundary = digestBoundary(wallNowMs, settings.hourUtc);
  const total = state.entries.length + Object.values(state.more).reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const byKind = new Map<string, { opened: number; changed: number; resolved: number }>();
  for (const e of state.entries) {
    const counts = byKind.get(e.kind) ?? { opened: 0, changed: 0, resolved: 0 };
    counts[e.change]++;
    byKind.set(e.kind, counts);
  }
  const metrics: Record<string, string | number> = { findings: total };
  for (const [kind, c] of [...byKind].sort(([a], [b]) => a.localeCompare(b))) {
    metrics[kind] = `${c.opened} opened, ${c.changed} changed, ${c.resolved} resolved`;
  }
  for (const [kind, n] of Object.entries(state.more)) metrics[`${kind} (not listed)`] = n;
  const listed = state.entries.slice(0, settings.listed);
  const servers = [...new Set(state.entries.map((e) => e.licenseServer))].sort();
  const since = state.lastAt ?? boundary - DAY_MS;
  const day = new Date(boundary).toISOString().slice(0, 10);
  return {
    schemaVersion: 1,
    action: 'digest',
    dedupKey: `calwatch/digest/${day}`,
    rule: 'digest',
    seq: state.seq + 1,
    at: new Date(wallNowMs).toISOString(),
    since: new Date(since).toISOString(),
    title: `Daily digest: ${total} low/info finding${total === 1 ? '' : 's'} since ${new Date(since).toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    severity: 'info',
    summary: [
      ...listed.map((e) => `${e.change} ${e.severity} ${e.kind} on ${e.licenseServer}: ${e.devices.join(', ')}${e.deviceCount > e.devices.length ? ` and ${e.deviceCount - e.devices.length} more` : ''}`),
      ...(total > listed.length ? [`and ${total - listed.length} more`] : []),
    ].join('\n'),
    licenseServer: servers.length === 1 ? servers[0]! : servers.length === 0 ? 'none' : `${servers.length} servers`,
    product: null,
    cals: 0,
    metrics,
    topOffenders: listed.map((e) => ({ name: `${e.licenseServer} ${e.kind}: ${e.devices[0] ?? e.findingId}`, cals: null })),
    remediation: 'Nothing pages for these: look at them when convenient (low and info findings in Kibana).',
    findingId: null,
    link,
  };
}

/** Marks the digest of `wallNowMs` as decided: the period closes, the entries start over. */
export function closeDigest(state: DigestState, wallNowMs: number, hourUtc: number, notification: Notification | null, targets: readonly string[]): void {
  state.lastAt = digestBoundary(wallNowMs, hourUtc);
  state.entries = [];
  state.more = {};
  if (notification === null) return;
  state.seq = notification.seq;
  for (const target of targets) state.outbox.push({ target, notification });
}
