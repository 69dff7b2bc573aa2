import type { z } from 'zod';
import {
  ByComputerMessage,
  ByServerMessage,
  createByComputerStage,
  createByHwidStage,
  createByServerStage,
  decodeByComputerState,
  decodeByHwidState,
  decodeByServerState,
  type CoreConfig,
  type Decoded,
  type StageOutput,
} from '../core/index';

export type StageName = 'by-hwid' | 'by-computer' | 'by-server';

/** The pipeline's stage rank: timers of one instant fire in this order. */
export const STAGE_RANK: Readonly<Record<StageName, number>> = { 'by-hwid': 0, 'by-computer': 1, 'by-server': 2 };

/**
 * One keyed stage seen uniformly by the tasks: states and messages are opaque values the
 * stage's own schemas decode at the boundary (changelog, repartition topic).
 */
export interface StageAdapter {
  readonly name: StageName;
  readonly rank: number;
  process(key: string, message: unknown, state: unknown): { state: unknown; outputs: StageOutput[] };
  dueAt(state: unknown): number | null;
  decodeState(json: unknown): Decoded<unknown>;
  /** Decodes a message read from the stage's repartition topic (by-hwid has none). */
  decodeMessage(json: unknown): { ok: true; message: unknown } | { ok: false; error: z.ZodError };
}

export function createStageAdapter(name: StageName, config: CoreConfig): StageAdapter {
  switch (name) {
    case 'by-hwid': {
      const stage = createByHwidStage(config);
      return {
        name,
        rank: STAGE_RANK[name],
        process: (key, message, state) => stage.process(key, message as Parameters<typeof stage.process>[1], state as Parameters<typeof stage.process>[2]),
        dueAt: (state) => stage.dueAt(state as Parameters<typeof stage.dueAt>[0]),
        decodeState: decodeByHwidState,
        decodeMessage: () => {
          throw new Error('by-hwid reads the events topic, not a repartition topic');
        },
      };
    }
    case 'by-computer': {
      const stage = createByComputerStage(config);
      return {
        name,
        rank: STAGE_RANK[name],
        process: (key, message, state) => stage.process(key, message as Parameters<typeof stage.process>[1], state as Parameters<typeof stage.process>[2]),
        dueAt: (state) => stage.dueAt(state as Parameters<typeof stage.dueAt>[0]),
        decodeState: decodeByComputerState,
        decodeMessage: (json) => {
          const result = ByComputerMessage.safeParse(json);
          return result.success ? { ok: true, message: result.data } : { ok: false, error: result.error };
        },
      };
    }
    case 'by-server': {
      const stage = createByServerStage(config);
      return {
        name,
        rank: STAGE_RANK[name],
        process: (key, message, state) => stage.process(key, message as Parameters<typeof stage.process>[1], state as Parameters<typeof stage.process>[2]),
        dueAt: (state) => stage.dueAt(state as Parameters<typeof stage.dueAt>[0]),
        decodeState: decodeByServerState,
        decodeMessage: (json) => {
          const result = ByServerMessage.safeParse(json);
          return result.success ? { ok: true, message: result.data } : { ok: false, error: result.error };
        },
      };
    }
  }
}
