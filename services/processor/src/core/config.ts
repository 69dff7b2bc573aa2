import { z } from 'zod';
import { CORE_ERRORS } from './errors';

const days = (value: number) => z.number().positive().default(value);
const count = (value: number) => z.number().int().positive().default(value);

/**
 * Detection thresholds. Every value has a default; docs/detection.md explains each one.
 * Durations are in days (the scale of CAL lifecycles) except lateness, in milliseconds.
 */
export const CoreConfig = z.object({
  /** Microsoft's per-device CAL lifecycle constants; change only to model another server build. */
  lifecycle: z
    .object({
      temporaryDays: days(90),
      permanentMaxDays: days(89),
      renewWithinDays: days(7),
      revokeCapRatio: z.number().gt(0).lte(1).default(0.2),
    })
    .prefault({}),
  /** How far behind the newest event time an event may arrive and still be ordered in. */
  lateness: z
    .object({
      allowedLatenessMs: z.number().int().nonnegative().default(3_600_000),
      /**
       * How far an event time may be past the newest time the runtime can vouch for (the
       * record's Kafka timestamp); later events are refused so one wrong clock cannot move
       * the partition's clock (and every timer) years ahead.
       */
      maxEventTimeSkewMs: z.number().int().nonnegative().default(86_400_000),
    })
    .prefault({}),
  clone: z
    .object({
      /** Issuances to a different name than the previous issuance of the HWID (A/B/A = 2). */
      minReissues: count(2),
      windowDays: days(90),
      /** No reissue for this long: the image was fixed, the finding resolves. */
      quietDays: days(14),
    })
    .prefault({}),
  churn: z
    .object({
      /** Distinct HWIDs first seen for one name within the window. */
      minHwids: z.number().int().min(2).default(3),
      windowDays: days(30),
      /** No new HWID for this long: the churn stopped, the finding resolves. */
      quietDays: days(21),
    })
    .prefault({}),
  rebuild: z
    .object({
      /**
       * A new HWID must stay the newest this long before the old one's CAL counts as
       * orphaned: a third HWID within it is churn, not a rebuild.
       */
      confirmDays: z.number().nonnegative().default(3),
    })
    .prefault({}),
  pool: z
    .object({
      /** Low when available <= max(lowAvailableCount, ceil(lowAvailableRatio * installed)). */
      lowAvailableCount: z.number().int().nonnegative().default(2),
      lowAvailableRatio: z.number().min(0).lte(1).default(0.05),
      /** Open when the projected time to exhaustion is within this horizon. */
      horizonDays: days(14),
      /** Window over which the permanent issuance rate is measured. */
      rateWindowDays: days(7),
      /** How long a pool event (20, 21, 22) keeps the finding open without newer evidence. */
      eventTtlDays: days(7),
      /** Window over which temporaries issued while the pool is empty are counted. */
      temporaryWindowDays: days(7),
    })
    .prefault({}),
  spike: z
    .object({
      /** Days before a day whose median permanent issuance is its baseline; a server seen for less is never spiking. */
      baselineDays: z.number().int().min(3).default(7),
      /** A day spikes when its new permanent CALs reach this multiple of the baseline ... */
      factor: z.number().gt(1).default(3),
      /** ... and at least this many, so a quiet server does not spike on two CALs. */
      minCals: count(10),
      /** A spike whose peak day reaches this multiple of its threshold is critical (else high). */
      criticalFactor: z.number().gt(1).default(3),
      /** Whole days under the threshold after the last spike day before the finding resolves. */
      clearDays: z.number().int().nonnegative().default(1),
    })
    .prefault({}),
  severity: z
    .object({
      mediumLeaked: count(3),
      highLeaked: count(10),
      criticalLeaked: count(50),
      /** New leaked CALs in the last 7 days that make a finding at least high. */
      highRatePerWeek: count(5),
      /**
       * Hysteresis: a finding's severity rises at once but falls only after the lower
       * severity has held this long (event time), so a finding at a threshold does not flap.
       */
      holdDays: z.number().nonnegative().default(1),
    })
    .prefault({}),
  revoke: z
    .object({
      /** Batches planned per CAL version; CALs beyond them wait for a later plan. */
      maxBatches: count(12),
      /** The server-wide plan is rebuilt at most this often (event time) while inputs change. */
      replanMinutes: z.number().nonnegative().default(60),
    })
    .prefault({}),
  emit: z
    .object({
      /**
       * A finding whose verdict holds is re-sent when its evidence has moved on by this
       * much (lastSeen, timeline, counts in the summary); verdict changes go out at once.
       */
      refreshDays: z.number().nonnegative().default(1),
      /**
       * A finding's lists (reclaimable CALs, HWIDs, names) are re-sent once the members
       * that joined, left or changed since the last update reach this fraction of its size
       * (0: on every change), or a refresh period after the first of them. Bounds the
       * updates of a long reissue episode to a logarithmic number.
       */
      candidateGrowth: z.number().nonnegative().max(10).default(0.1),
    })
    .prefault({}),
  state: z
    .object({
      /** Licenses kept per HWID and per name (the oldest ended ones go first). */
      maxLicensesPerKey: count(500),
      /** HWIDs kept per computer name. */
      maxHwidsPerComputer: count(64),
      /**
       * Valid CALs of HWIDs a name dropped at maxHwidsPerComputer, kept (id, key pack, dates)
       * to be counted and planned until they expire: about three months of a desktop that
       * gets a new HWID at each of ten boots a day.
       */
      maxDroppedCalsPerComputer: count(1024),
      /** Evidence entries kept per finding. */
      timelineMax: count(50),
      /** Ended or expired licenses are forgotten this long after they ended. */
      retentionDays: days(120),
    })
    .prefault({}),
});
export type CoreConfig = z.infer<typeof CoreConfig>;
export type CoreConfigInput = z.input<typeof CoreConfig>;

/** Parses (and freezes) a config; throws a coded error listing every problem. */
export function parseCoreConfig(input: unknown = {}): CoreConfig {
  const result = CoreConfig.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw CORE_ERRORS.create('PROCESSOR_CONFIG_INVALID', `invalid detection config: ${problems.join('; ')}`, {
      context: { problems },
    });
  }
  return deepFreeze(result.data);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
