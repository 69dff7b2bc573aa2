import type { Severity } from '@calwatch/model';
import type { RuleName } from './notification';

/** What decides whether something pages, in event time. Built once from the config. */
export interface RuleSettings {
  enabled: ReadonlySet<RuleName>;
  finding: {
    minSeverity: Severity;
  };
  revocation: {
    /** How long a revocation-limit alert stays open when the event gives no next-allowed date. */
    clearAfterMs: number;
  };
  topOffenders: number;
}
