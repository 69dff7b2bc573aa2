import {
  ServiceEvent,
  buildComputer,
  buildEventId,
  normalizeComputer,
  type CanonicalEvent,
  type Computer,
  type SourceKind,
} from '@calwatch/model';
import { LICENSING_PROVIDER, canonicalProvider, lookupEvent, resolveEventCode } from './event-catalog';
import type { FieldProblem } from './wmi-records';
import { parseDate, showValue } from './wmi-values';

/** A Windows event as either reader (Winlogbeat JSON, EVTX XML) sees it, before meaning. */
export interface RawWindowsEvent {
  provider: string | null;
  eventSourceName: string | null;
  /** The event ID as written, possibly with qualifier bits. */
  eventId: unknown;
  channel: string | null;
  recordId: string | null;
  computer: string | null;
  level: string | null;
  timeCreated: unknown;
  /** Inserts in order, with their names when the source has them. */
  inserts: { name: string | null; value: string }[];
  /** Names of the source fields, for reasons: e.g. `winlog.provider_name` or `Provider/@Name`. */
  fieldNames: { provider: string; eventId: string; computer: string; timeCreated: string };
}

export interface ServiceEventContext {
  sourceKind: SourceKind;
  ref: string;
  observedTime: string;
  fallbackServer: string | undefined;
}

export type ServiceEventResult =
  | { ok: true; event: CanonicalEvent }
  | { ok: false; unrelated: boolean; problems: FieldProblem[] };

const LEVEL_NAMES: Record<string, string> = {
  '0': 'information',
  '1': 'critical',
  '2': 'error',
  '3': 'warning',
  '4': 'information',
  '5': 'verbose',
};

const PARAM_NAME = /^param(\d+)$/i;

/**
 * Renames inserts to 1-based `param1..paramN`. Sources name them `param1..` (classic
 * renderer), `param0..` (Winlogbeat's 0-based fallback) or by template name; template
 * names are kept as well, and the n-th insert is also `param<n>`.
 */
export function normalizeInserts(inserts: { name: string | null; value: string }[]): Record<string, string> {
  const numbered = inserts
    .map((insert) => (insert.name === null ? undefined : PARAM_NAME.exec(insert.name)))
    .filter((m): m is RegExpExecArray => m !== null && m !== undefined)
    .map((m) => Number(m[1]));
  const shift = numbered.includes(0) ? 1 : 0;
  const params: Record<string, string> = {};
  inserts.forEach((insert) => {
    const m = insert.name === null ? null : PARAM_NAME.exec(insert.name);
    if (m !== null) {
      params[`param${Number(m[1]) + shift}`] = insert.value;
    } else if (insert.name !== null && insert.name !== '') {
      params[insert.name] = insert.value;
    }
  });
  inserts.forEach((insert, index) => {
    const key = `param${index + 1}`;
    if (!(key in params)) params[key] = insert.value;
  });
  return params;
}

function parseCount(value: string | undefined): number | null {
  return value !== undefined && /^\s*\d{1,9}\s*$/.test(value) ? Number(value) : null;
}

function computerOrNull(value: string | undefined): Computer | null {
  if (value === undefined || value.trim() === '') return null;
  const computer = buildComputer(value);
  return computer.norm === '' ? null : computer;
}

function parseEventCode(value: unknown): number | undefined {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  return /^\d{1,10}$/.test(text) && Number(text) <= 0xffffffff ? Number(text) : undefined;
}

/** Gives a licensing-related Windows event its meaning and the facts its inserts carry. */
export function buildServiceEvent(raw: RawWindowsEvent, ctx: ServiceEventContext): ServiceEventResult {
  const names = raw.fieldNames;
  const provider = canonicalProvider(raw.provider, raw.eventSourceName);
  const rawCode = parseEventCode(raw.eventId);
  if (provider === undefined) {
    return {
      ok: false,
      unrelated: true,
      problems: [
        {
          code: 'INGEST_UNRELATED_EVENT',
          field: names.provider,
          message: `${names.provider}: expected ${LICENSING_PROVIDER} (or TermServLicensing) or TerminalServices-RemoteConnectionManager, found ${showValue(raw.provider)} (event ${showValue(raw.eventId)})`,
        },
      ],
    };
  }
  const problems: FieldProblem[] = [];
  if (rawCode === undefined) {
    problems.push({
      code: raw.eventId === undefined || raw.eventId === null ? 'INGEST_MISSING_FIELD' : 'INGEST_BAD_FIELD',
      field: names.eventId,
      message: `${names.eventId}: expected a numeric event ID, found ${showValue(raw.eventId)}`,
    });
  }
  const time = parseDate(raw.timeCreated);
  if (!time.ok) {
    problems.push({
      code: raw.timeCreated === undefined || raw.timeCreated === null ? 'INGEST_MISSING_FIELD' : 'INGEST_BAD_FIELD',
      field: names.timeCreated,
      message: `${names.timeCreated}: expected an ISO 8601 instant, found ${showValue(raw.timeCreated)}`,
    });
  }
  const host = raw.computer?.trim() ?? '';
  if (host === '' || normalizeComputer(host) === '') {
    problems.push({ code: 'INGEST_MISSING_FIELD', field: names.computer, message: `${names.computer} is missing or empty` });
  }
  if (problems.length > 0 || rawCode === undefined || !time.ok) return { ok: false, unrelated: false, problems };

  const code = resolveEventCode(provider, rawCode);
  const params = normalizeInserts(raw.inserts);
  const { meaning, inserts = {} } = lookupEvent(provider, code);
  const insert = (n: number | undefined) => (n === undefined ? undefined : params[`param${n}`]);
  const nextRevoke = insert(inserts.nextRevokeAllowedAt);
  const nextRevokeAt = nextRevoke === undefined ? undefined : parseDate(nextRevoke);
  const hostNorm = normalizeComputer(host);
  const isLicenseServer = provider === LICENSING_PROVIDER;
  const namedServer = insert(inserts.licenseServer);
  // Session-host events name their license server only sometimes; otherwise the caller's
  // fallback, else the session host itself keys the event.
  const licenseServer = isLicenseServer
    ? hostNorm
    : namedServer !== undefined && normalizeComputer(namedServer) !== ''
      ? normalizeComputer(namedServer)
      : ctx.fallbackServer !== undefined && normalizeComputer(ctx.fallbackServer) !== ''
        ? normalizeComputer(ctx.fallbackServer)
        : hostNorm;
  const product = insert(inserts.product);
  const level = raw.level === null ? null : (LEVEL_NAMES[raw.level.trim()] ?? raw.level.trim().toLowerCase());

  const candidate = {
    schemaVersion: 1 as const,
    eventId: buildEventId('service.event', provider, code, hostNorm, raw.recordId, time.value),
    eventTime: time.value,
    observedTime: ctx.observedTime,
    source: { kind: ctx.sourceKind, ref: ctx.ref },
    licenseServer,
    type: 'service.event' as const,
    event: {
      code,
      channel: raw.channel ?? '',
      provider,
      recordId: raw.recordId,
      host,
      level: level === '' ? null : level,
      params,
      meaning,
      product: product === undefined || product.trim() === '' ? null : product,
      remainingCals: parseCount(insert(inserts.remainingCals)),
      revokedCount: parseCount(insert(inserts.revokedCount)),
      installedCount: parseCount(insert(inserts.installedCount)),
      nextRevokeAllowedAt: nextRevokeAt?.ok === true ? nextRevokeAt.value : null,
      client: computerOrNull(insert(inserts.client)),
      sessionHost: isLicenseServer ? (insert(inserts.sessionHost)?.trim() || null) : host,
    },
  };
  const parsed = ServiceEvent.safeParse(candidate);
  if (parsed.success) return { ok: true, event: parsed.data };
  return {
    ok: false,
    unrelated: false,
    problems: parsed.error.issues.map((issue) => ({
      code: 'INGEST_SCHEMA_INVALID',
      field: issue.path.map(String).join('.'),
      message: `${issue.path.map(String).join('.')}: ${issue.message}`,
    })),
  };
}
