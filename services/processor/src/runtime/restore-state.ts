import type { KeyedStore } from './keyed-store';
import { parseJson } from './internal-records';
import type { StageAdapter } from './stage-adapters';
import type { TaskProblem } from './task';

/** Loads one state record of a changelog; a record failing its schema is reported and left out. */
export function restoreState(store: KeyedStore, stage: StageAdapter, key: string, value: Buffer | null, problems: TaskProblem[]): void {
  if (value === null) {
    store.load(key, undefined);
    return;
  }
  const json = parseJson(value);
  const decoded = json.ok ? stage.decodeState(json.value) : null;
  if (decoded?.ok === true) {
    store.load(key, decoded.state);
    return;
  }
  store.load(key, undefined);
  problems.push({
    code: decoded === null ? 'PROCESSOR_CHANGELOG_RECORD_INVALID' : decoded.error.code,
    key,
    message: decoded === null ? `${stage.name} state is not JSON` : decoded.error.message,
  });
}
