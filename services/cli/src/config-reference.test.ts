import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildConfigReference, CONFIG_SCHEMAS, updateReadmeReference } from './config-reference';

const readmePath = fileURLToPath(new URL('../../../README.md', import.meta.url));

describe('configuration reference', () => {
  it('lists every variable of every service schema with a meaning', () => {
    const reference = buildConfigReference();
    for (const { service } of CONFIG_SCHEMAS) expect(reference).toContain(`#### ${service}`);
    const rows = reference.split('\n').filter((line) => line.startsWith('| `'));
    expect(rows.length).toBeGreaterThan(30);
    const undocumented = rows.filter((row) => row.trimEnd().endsWith('|  |'));
    expect(undocumented).toEqual([]);
    expect(reference).toContain('| `KAFKA_BROKERS` | `127.0.0.1:9092` |');
  });

  it('is what the README shows (run `npx calwatch config --update-readme README.md` after a change)', () => {
    const readme = readFileSync(readmePath, 'utf8');
    expect(updateReadmeReference(readme)).toBe(readme);
  });
});
