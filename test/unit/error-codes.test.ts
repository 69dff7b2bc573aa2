import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ErrorSpec } from '../../shared/model/src/errors';
import { SHARED_ERRORS } from '../../shared/model/src/errors';
import { INGEST_ERRORS } from '../../shared/ingest/src/errors';
import { INGEST_REJECTIONS } from '../../shared/ingest/src/rejection-codes';
import { SIMULATOR_ERRORS } from '../../tools/simulator/src/errors';
import { COLLECTOR_ERRORS } from '../../services/collector/src/errors';
import { INDEXER_ERRORS } from '../../services/indexer/src/errors';
import { NOTIFIER_ERRORS } from '../../services/notifier/src/errors';
import { CORE_ERRORS } from '../../services/processor/src/core/errors';
import { PROCESSOR_ERRORS } from '../../services/processor/src/errors';
import { REPLAY_ERRORS } from '../../services/cli/src/replay/errors';
import { STACK_ERRORS } from '../../tools/stack/src/errors';

const ROOT = join(import.meta.dirname, '../..');

/** Every code table, by the file that declares it. */
const TABLES: Record<string, Record<string, ErrorSpec>> = {
  'shared/model/src/errors.ts': SHARED_ERRORS.table,
  'shared/ingest/src/errors.ts': INGEST_ERRORS.table,
  'shared/ingest/src/rejection-codes.ts': INGEST_REJECTIONS.table,
  'tools/simulator/src/errors.ts': SIMULATOR_ERRORS.table,
  'services/collector/src/errors.ts': COLLECTOR_ERRORS.table,
  'services/indexer/src/errors.ts': INDEXER_ERRORS.table,
  'services/notifier/src/errors.ts': NOTIFIER_ERRORS.table,
  'services/processor/src/core/errors.ts': CORE_ERRORS.table,
  'services/processor/src/errors.ts': PROCESSOR_ERRORS.table,
  'services/cli/src/replay/errors.ts': REPLAY_ERRORS.table,
  'tools/stack/src/errors.ts': STACK_ERRORS.table,
};

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

describe('error codes across the project', () => {
  it('every table that declares codes is checked here', async () => {
    const declaring: string[] = [];
    for (const top of ['shared', 'tools', 'services']) {
      if (!existsSync(join(ROOT, top))) continue;
      for (const file of await sourceFiles(join(ROOT, top))) {
        if (/=\s*defineErrors\(/.test(await readFile(file, 'utf8'))) declaring.push(relative(ROOT, file));
      }
    }
    expect(declaring.sort()).toEqual(Object.keys(TABLES).sort());
  });

  it('are unique across every table, prefixed by their table and documented', () => {
    const owner = new Map<string, string>();
    for (const [file, table] of Object.entries(TABLES)) {
      const codes = Object.keys(table);
      const prefix = codes[0]!.split('_')[0]!;
      for (const [code, spec] of Object.entries(table)) {
        expect(owner.get(code), `${code} is declared in ${owner.get(code)} and ${file}`).toBeUndefined();
        owner.set(code, file);
        expect(code, `${file}: ${code}`).toMatch(/^[A-Z]+(_[A-Z0-9]+)+$/);
        expect(code.startsWith(`${prefix}_`), `${file}: ${code} does not share the table's prefix ${prefix}_`).toBe(true);
        expect(spec.description.length, `${file}: ${code} needs a description`).toBeGreaterThan(20);
      }
    }
    expect(owner.size).toBeGreaterThan(50);
  });
});
