/** Counters of one runtime instance; tasks add to them, the service reports them. */
export interface RuntimeMetrics {
  /** Consumer batches handled and punctuations that wrote something. */
  batches: number;
  punctuationsWritten: number;
  /** Producer round trips (each acknowledged by the broker). */
  sends: number;
  /** Input records handled (events and repartition topics, watermarks included). */
  records: number;
  /** Records skipped because the task's state already had them (offset <= last applied). */
  replayedRecords: number;
  /** Stage steps run: input events, internal messages and timer ticks. */
  steps: number;
  ticks: number;
  deadLettered: number;
  /** Events dead-lettered for arriving behind the released point. */
  tooLate: number;
  /** Repeats dropped: internal messages already seen from their source (after a crash), events already buffered. */
  duplicates: number;
  /** Internal messages that arrived behind the released point (an idle source came back): applied on arrival. */
  lateApplied: number;
  /** Outputs whose order key was moved forward to keep a source's emissions increasing. */
  bumpedOutputs: number;
  internalOut: number;
  findingsOut: number;
  enrichedOut: number;
  watermarksOut: number;
  watermarksIn: number;
  restoredTasks: number;
  restoredRecords: number;
}

export function createRuntimeMetrics(): RuntimeMetrics {
  return {
    batches: 0,
    punctuationsWritten: 0,
    sends: 0,
    records: 0,
    replayedRecords: 0,
    steps: 0,
    ticks: 0,
    deadLettered: 0,
    tooLate: 0,
    duplicates: 0,
    lateApplied: 0,
    bumpedOutputs: 0,
    internalOut: 0,
    findingsOut: 0,
    enrichedOut: 0,
    watermarksOut: 0,
    watermarksIn: 0,
    restoredTasks: 0,
    restoredRecords: 0,
  };
}
