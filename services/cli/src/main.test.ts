import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../../node_modules/tsx/dist/loader.mjs', import.meta.url));

/** Lists every module the process loads, on stderr at exit. */
const RECORD_LOADS = [
  "import { registerHooks } from 'node:module';",
  'const loaded = [];',
  'registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });',
  "process.on('exit', () => process.stderr.write('\\nLOADED ' + JSON.stringify(loaded) + '\\n'));",
].join('\n');

/** The modules `calwatch <args>` loads, run as the command runs it, with no connection variable set. */
async function modulesLoadedBy(args: string[]): Promise<string[]> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.KAFKA_BROKERS;
  delete env.ELASTICSEARCH_URL;
  const { stderr } = await promisify(execFile)(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(RECORD_LOADS)}`, '--import', TSX, MAIN, ...args],
    { cwd: ROOT, env },
  );
  const line = stderr.split('\n').find((l) => l.startsWith('LOADED '));
  if (line === undefined) throw new Error(`no module list in the output: ${stderr.slice(0, 500)}`);
  return JSON.parse(line.slice('LOADED '.length)) as string[];
}

const fromStack = (urls: string[]) => urls.filter((url) => url.includes('/tools/stack/src/'));

describe('calwatch start-up', () => {
  it('an offline command (analyze) does not load the local stack; a command that connects looks it up', async () => {
    const [offline, connecting] = await Promise.all([modulesLoadedBy(['analyze', '--help']), modulesLoadedBy(['config', '--help'])]);
    expect(offline.some((url) => url.includes('/services/cli/src/commands/analyze.ts'))).toBe(true);
    expect(fromStack(offline)).toEqual([]);
    // The same start-up for a command that is not offline finds the stack's settings.
    expect(fromStack(connecting).length).toBeGreaterThan(0);
  }, 60_000);
});
