import type { z } from 'zod';
import type { CalwatchError } from '@calwatch/model';
import { CORE_ERRORS } from './errors';

export type Decoded<T> = { ok: true; state: T } | { ok: false; error: CalwatchError };

/**
 * Decodes a stage state read back from a changelog topic. A state that fails its schema is
 * a coded outcome (PROCESSOR_STATE_INVALID with the zod issues), never a cast.
 */
export function decodeState<S extends z.ZodType>(schema: S, stage: string, json: unknown): Decoded<z.infer<S>> {
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, state: result.data };
  const issues = result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  return {
    ok: false,
    error: CORE_ERRORS.create('PROCESSOR_STATE_INVALID', `${stage} state failed its schema (${issues.length} issues)`, {
      context: { stage, issues },
    }),
  };
}
