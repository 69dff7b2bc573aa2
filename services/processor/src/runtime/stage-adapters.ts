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
  type StageResult,
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
    case 'by-hwid':
      return adapt(name, createByHwidStage(config), decodeByHwidState, () => {
        throw new Error('by-hwid reads the events topic, not a repartition topic');
      });
    case 'by-computer':
      return adapt(name, createByComputerStage(config), decodeByComputerState, buildMessageDecoder(ByComputerMessage));
    case 'by-server':
      return adapt(name, createByServerStage(config), decodeByServerState, buildMessageDecoder(ByServerMessage));
  }
}

/** A typed stage seen through the opaque interface: its states and messages come only from its own decoders. */
function adapt<M, S>(
  name: StageName,
  stage: { process(key: string, message: M, state: S | undefined): StageResult<S | undefined>; dueAt(state: S): number | null },
  decodeState: (json: unknown) => Decoded<S>,
  decodeMessage: StageAdapter['decodeMessage'],
): StageAdapter {
  return {
    name,
    rank: STAGE_RANK[name],
    process: (key, message, state) => stage.process(key, message as M, state as S | undefined),
    dueAt: (state) => stage.dueAt(state as S),
    decodeState,
    decodeMessage,
  };
}

function buildMessageDecoder(schema: z.ZodType): StageAdapter['decodeMessage'] {
  return (json) => {
    const result = schema.safeParse(json);
    return result.success ? { ok: true, message: result.data } : { ok: false, error: result.error };
  };
}
