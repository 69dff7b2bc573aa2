import { CanonicalEvent, type DeadLetter } from '@calwatch/shared';

export interface ScreenedEvents {
  valid: CanonicalEvent[];
  deadLetters: DeadLetter[];
}

export type ScreenResult = { ok: true; event: CanonicalEvent } | { ok: false; deadLetter: DeadLetter };

/**
 * The last check before Kafka: whatever built an event, only what passes the canonical
 * schema is published; the rest becomes a dead letter with the zod issues.
 */
export function screenEvent(event: unknown, where: { ref: string; record: number | null; at: string }): ScreenResult {
  const parsed = CanonicalEvent.safeParse(event);
  if (parsed.success) return { ok: true, event: parsed.data };
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
      originalBase64: Buffer.from(safeStringify(event)).toString('base64'),
    },
  };
}

export function screenEvents(events: readonly unknown[], ref: string, at: string): ScreenedEvents {
  const valid: CanonicalEvent[] = [];
  const deadLetters: DeadLetter[] = [];
  for (const event of events) {
    const result = screenEvent(event, { ref, record: null, at });
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
