import { CanonicalEvent, buildDeadLetterOriginal, isEventTimeAhead, type DeadLetter } from '@calwatch/model';

export interface ScreenedEvents {
  valid: CanonicalEvent[];
  deadLetters: DeadLetter[];
}

export type ScreenResult = { ok: true; event: CanonicalEvent } | { ok: false; deadLetter: DeadLetter };

export interface ScreenContext {
  ref: string;
  record: number | null;
  /** The collector's clock (ISO instant): dead letters carry it and event times are bounded by it. */
  at: string;
  /** How far past `at` an event time may be. */
  maxEventTimeSkewMs: number;
}

/**
 * The last check before Kafka: whatever built an event, only what passes the canonical
 * schema is published; the rest becomes a dead letter with the zod issues. An event time
 * far past the collector clock is refused too: downstream, one such event would move a
 * partition's clock ahead of every real event (they would all be too late).
 */
export function screenEvent(event: unknown, where: ScreenContext): ScreenResult {
  const parsed = CanonicalEvent.safeParse(event);
  if (parsed.success) {
    const clockMs = Date.parse(where.at);
    if (!isEventTimeAhead(parsed.data.eventTime, clockMs, where.maxEventTimeSkewMs)) return { ok: true, event: parsed.data };
    const notAfterMs = clockMs + where.maxEventTimeSkewMs;
    return {
      ok: false,
      deadLetter: {
        schemaVersion: 1,
        at: where.at,
        code: 'COLLECTOR_EVENT_TIME_AHEAD',
        reason: `${parsed.data.type} event time ${parsed.data.eventTime} is more than ${where.maxEventTimeSkewMs} ms past the collector clock ${where.at}; check the source's clock`,
        location: { ref: where.ref, line: null, record: where.record, field: 'eventTime' },
        issues: [{ path: 'eventTime', message: `later than ${new Date(notAfterMs).toISOString()}` }],
        ...buildDeadLetterOriginal(safeStringify(event)),
      },
    };
  }
  const issues = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  const type = (event as { type?: unknown } | null)?.type;
  const summary = issues
    .slice(0, 3)
    .map((issue) => `${issue.path || '(root)'}: ${issue.message}`)
    .join('; ');
  return {
    ok: false,
    deadLetter: {
      schemaVersion: 1,
      at: where.at,
      code: 'COLLECTOR_INVALID_EVENT',
      reason: `${typeof type === 'string' ? type : 'event'} fails the canonical schema: ${summary}`,
      location: { ref: where.ref, line: null, record: where.record, field: issues[0]?.path ?? null },
      issues,
      ...buildDeadLetterOriginal(safeStringify(event)),
    },
  };
}

export function screenEvents(events: readonly unknown[], ref: string, at: string, maxEventTimeSkewMs: number): ScreenedEvents {
  const valid: CanonicalEvent[] = [];
  const deadLetters: DeadLetter[] = [];
  for (const event of events) {
    const result = screenEvent(event, { ref, record: null, at, maxEventTimeSkewMs });
    if (result.ok) valid.push(result.event);
    else deadLetters.push(result.deadLetter);
  }
  return { valid, deadLetters };
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
