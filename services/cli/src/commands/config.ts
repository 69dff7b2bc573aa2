import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { buildConfigReference, updateReadmeReference } from '../config-reference';
import type { Command, CommandIo } from './registry';

const usage = `usage: calwatch config [--markdown | --update-readme <README.md>]

Prints every environment variable each calwatch service reads, with its default and
meaning, generated from the services' config schemas. --update-readme rewrites the
reference section of the given README in place.`;

async function run(args: string[], io: CommandIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { markdown: { type: 'boolean' }, 'update-readme': { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (error) {
    io.stderr.write(`calwatch config: ${(error as Error).message}\n${usage}\n`);
    return 2;
  }
  if (values.help === true) {
    io.stdout.write(usage + '\n');
    return 0;
  }
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
