/** Counters of one runtime instance; tasks add to them, the service reports them. */
export interface RuntimeMetrics {
  /** Consumer batches handled and punctuations that wrote something. */
  batches: number;
  punctuationsWritten: number;
  /** Producer round trips (each acknowledged by the broker). */
  sends: number;
  /** State, buffer and meta records written to the changelog (a key changed often is written once per commit). */
  changelogRecords: number;
  /** Input offsets committed, each after the changelog records it depends on. */
  commits: number;
  /** Input records handled. */
  records: number;
  /** Records skipped because the task's state already had them (offset <= last applied). */
  replayedRecords: number;
  /** Stage steps run (each key a step wrote), timer ticks included. */
  steps: number;
  ticks: number;
  deadLettered: number;
  /** Events dead-lettered for arriving behind the released point. */
  tooLate: number;
  /** Events dead-lettered for an event time too far past their record's timestamp. */
  timeAhead: number;
  /** Repeats dropped as they left the lateness buffer (a collector re-sent them). */
  duplicates: number;
  findingsOut: number;
  enrichedOut: number;
  restoredTasks: number;
  restoredRecords: number;
  /**
   * Wall time spent reading changelogs back, summed over restores (group joins not included);
   * the changelogs one restore reads at once count once.
   */
  restoreMs: number;
}

export function createRuntimeMetrics(): RuntimeMetrics {
  return {
    batches: 0,
    punctuationsWritten: 0,
    sends: 0,
    changelogRecords: 0,
    commits: 0,
    records: 0,
    replayedRecords: 0,
    steps: 0,
    ticks: 0,
    deadLettered: 0,
    tooLate: 0,
    timeAhead: 0,
    duplicates: 0,
    findingsOut: 0,
    enrichedOut: 0,
    restoredTasks: 0,
    restoredRecords: 0,
    restoreMs: 0,
  };
}
