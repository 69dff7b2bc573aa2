import type { OutgoingRecord } from '@calwatch/shared';
import type { StageOutput } from '../core/index';
import { buildEnrichedRecord, buildFindingRecord, buildMessageRecord } from './internal-records';
import type { RuntimeMetrics } from './metrics';
import { type OrderKey, buildChildOrder, bumpOrder, isAfter } from './order-key';

/** The topics a task writes besides its changelog. */
export interface OutputTopics {
  byComputer: string;
  byServer: string;
  findings: string;
  enriched: string;
  deadLetter: string;
}

/**
 * Turns stage outputs into records. Messages for a downstream stage get the order key
 * of their place in the pipeline's order (the parent step's key, one level deeper), kept
 * strictly increasing per task: downstream drops what is not after the last key it saw
 * from this task as a repeat of work done before a crash.
 */
export class OutputEmitter {
  lastEmitted: OrderKey | null = null;

  constructor(
    private readonly topics: OutputTopics,
    private readonly source: string,
    private readonly metrics: RuntimeMetrics,
  ) {}

  /** Records for the outputs of the step with key `parent`, appended to `into`. */
  emit(parent: OrderKey, outputs: readonly StageOutput[], into: OutgoingRecord[]): void {
    for (let i = 0; i < outputs.length; i++) {
      const output = outputs[i]!;
      switch (output.topic) {
        case 'by-computer':
          into.push(this.message(this.topics.byComputer, output.key, output.message, { at: parent.at, order: buildChildOrder(parent.order, i) }));
          break;
        case 'by-server':
          into.push(this.message(this.topics.byServer, output.key, output.message, { at: parent.at, order: buildChildOrder(parent.order, i) }));
          break;
        case 'findings':
          this.metrics.findingsOut++;
          into.push(buildFindingRecord(this.topics.findings, output.message, { at: parent.at, order: buildChildOrder(parent.order, i) }, this.source));
          break;
        case 'enriched':
          this.metrics.enrichedOut++;
          into.push(buildEnrichedRecord(this.topics.enriched, output.key, output.message, { at: parent.at, order: buildChildOrder(parent.order, i) }, this.source));
          break;
      }
    }
  }

  /** An input event passed on as is to the stage that owns it (depth 0: the event's own key). */
  forward(target: 'byComputer' | 'byServer', key: string, message: unknown, orderKey: OrderKey, into: OutgoingRecord[]): void {
    into.push(this.message(this.topics[target], key, message, orderKey));
  }

  private message(topic: string, key: string, message: unknown, natural: OrderKey): OutgoingRecord {
    let orderKey = natural;
    if (this.lastEmitted !== null && !isAfter(natural, this.lastEmitted)) {
      orderKey = bumpOrder(this.lastEmitted);
      this.metrics.bumpedOutputs++;
    }
    this.lastEmitted = orderKey;
    this.metrics.internalOut++;
    return buildMessageRecord(topic, key, message, orderKey, this.source);
  }
}
