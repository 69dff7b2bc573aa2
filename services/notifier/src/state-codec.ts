import { z } from 'zod';
import { AlertRecord } from './alert-machine';
import { DigestState } from './digest';
import { Notification } from './notification';
import { SeriesState } from './series';

/**
 * Everything the notifier must remember across restarts, as key -> JSON value records of
 * the compacted alert-state topic (a null value deletes the key):
 *   alert/<dedupKey>            the alert, the targets that were paged, the outbox
 *   series/<server>/<product>   rate buckets, pool and revocation memory
 *   keypacks/<server>           last key-pack inventory per key pack
 *   clock                       event time reached
 *   digest                      the daily digest: when it was last sent, what it will list, its outbox
 *   offset/<topic>/<partition>  last input offset folded into this state
 */

export const OutboxEntry = z.object({
  target: z.string(),
  notification: Notification,
});
export type OutboxEntry = z.infer<typeof OutboxEntry>;

export const StoredAlert = z.object({
  alert: AlertRecord,
  /** Targets that got the trigger: they get the updates and the resolve. */
  targets: z.array(z.string()),
  /** Sequence number of the last notification about this alert. */
  seq: z.number().int().nonnegative(),
  /** Notifications decided but not yet delivered (or given up on) per target. */
  outbox: z.array(OutboxEntry),
});
export type StoredAlert = z.infer<typeof StoredAlert>;

export const KeyPackEntry = z.object({
  product: z.string(),
  available: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  at: z.number(),
});
export const KeyPackIndex = z.record(z.string(), KeyPackEntry);
export type KeyPackIndex = z.infer<typeof KeyPackIndex>;

export const ClockState = z.object({ baseMs: z.number().nullable() });
export const AppliedOffset = z.object({ offset: z.string().regex(/^\d+$/) });

export const STATE_KEYS = {
  alert: (dedupKey: string) => `alert/${dedupKey}`,
  series: (server: string, product: string) => `series/${server}/${product}`,
  keyPacks: (server: string) => `keypacks/${server}`,
  clock: 'clock',
  digest: 'digest',
  offset: (topic: string, partition: number) => `offset/${topic}/${partition}`,
} as const;

export type StateValue =
  | { kind: 'alert'; value: StoredAlert }
  | { kind: 'series'; value: SeriesState }
  | { kind: 'keypacks'; server: string; value: KeyPackIndex }
  | { kind: 'clock'; value: z.infer<typeof ClockState> }
  | { kind: 'digest'; value: DigestState }
  | { kind: 'offset'; topic: string; partition: number; value: z.infer<typeof AppliedOffset> };

export type DecodeResult = { ok: true; entry: StateValue } | { ok: false; message: string };

/** Decodes one record of the alert-state topic by its key's kind. */
export function decodeStateValue(key: string, json: unknown): DecodeResult {
  const slash = key.indexOf('/');
  const kind = slash === -1 ? key : key.slice(0, slash);
  const rest = slash === -1 ? '' : key.slice(slash + 1);
  const fail = (error: z.ZodError): DecodeResult => ({ ok: false, message: z.prettifyError(error) });
  switch (kind) {
    case 'alert': {
      const parsed = StoredAlert.safeParse(json);
      return parsed.success ? { ok: true, entry: { kind, value: parsed.data } } : fail(parsed.error);
    }
    case 'series': {
      const parsed = SeriesState.safeParse(json);
      return parsed.success ? { ok: true, entry: { kind, value: parsed.data } } : fail(parsed.error);
    }
    case 'keypacks': {
      const parsed = KeyPackIndex.safeParse(json);
      return parsed.success ? { ok: true, entry: { kind, server: rest, value: parsed.data } } : fail(parsed.error);
    }
    case 'clock': {
      const parsed = ClockState.safeParse(json);
      return parsed.success ? { ok: true, entry: { kind, value: parsed.data } } : fail(parsed.error);
    }
    case 'digest': {
      const parsed = DigestState.safeParse(json);
      return parsed.success ? { ok: true, entry: { kind, value: parsed.data } } : fail(parsed.error);
    }
    case 'offset': {
      const cut = rest.lastIndexOf('/');
      const partition = Number(rest.slice(cut + 1));
      if (cut <= 0 || !Number.isInteger(partition)) return { ok: false, message: `malformed offset key '${key}'` };
      const parsed = AppliedOffset.safeParse(json);
      return parsed.success ? { ok: true, entry: { kind, topic: rest.slice(0, cut), partition, value: parsed.data } } : fail(parsed.error);
    }
    default:
      return { ok: false, message: `unknown state key kind '${kind}'` };
  }
}
