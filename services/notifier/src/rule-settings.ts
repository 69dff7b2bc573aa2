import type { Severity } from '@calwatch/model';
import type { RuleName } from './notification';

/** Thresholds of every rule, in event time. Built once from the config. */
export interface RuleSettings {
  enabled: ReadonlySet<RuleName>;
  spike: {
    intervalMs: number;
    /** Closed intervals the rolling baseline averages over. */
    baselineIntervals: number;
    /** The interval's new CALs must reach factor x baseline ... */
    factor: number;
    /** ... and at least this many, so a quiet night does not page for two licenses. */
    minCals: number;
    /** Consecutive closed intervals under the threshold before the alert resolves. */
    clearIntervals: number;
    severity: Severity;
    /** Peak at or above criticalFactor x threshold makes it critical. */
    criticalFactor: number;
    /** Inputs older than this (against the wall clock) count for the baseline but never page. */
    maxEventAgeMs: number;
  };
  finding: {
    minSeverity: Severity;
  };
  revocation: {
    /** How long a revocation-limit alert stays open when the event gives no next-allowed date. */
    clearAfterMs: number;
  };
  topOffenders: number;
}
