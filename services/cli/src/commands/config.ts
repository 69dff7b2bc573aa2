import { readFile, writeFile } from 'node:fs/promises';
import { buildConfigReference, updateReadmeReference } from '../config-reference';
import { parseCommandArgs } from './command-support';
import type { Command, CommandIo } from './registry';

const usage = `usage: calwatch config [--markdown | --update-readme <README.md>]

Prints every environment variable each calwatch service reads, with its default and
meaning, generated from the services' config schemas. --update-readme rewrites the
reference section of the given README in place.`;

async function run(args: string[], io: CommandIo): Promise<number> {
  const parsed = parseCommandArgs('config', usage, io, {
    args,
    options: { markdown: { type: 'boolean' }, 'update-readme': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const readmePath = values['update-readme'];
  if (readmePath !== undefined) {
    await writeFile(readmePath, updateReadmeReference(await readFile(readmePath, 'utf8')));
    io.stdout.write(`updated the configuration reference in ${readmePath}\n`);
    return 0;
  }
  io.stdout.write(buildConfigReference());
  return 0;
}

export const command: Command = {
  name: 'config',
  summary: 'print the configuration reference (every environment variable, default, meaning)',
  usage,
  run,
};
