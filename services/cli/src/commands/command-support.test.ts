import { describe, expect, it } from 'vitest';
import { SHARED_ERRORS } from '@calwatch/model';
import { UsageError, checkNoArguments, parseArguments, parseCommandArgs, reportCalwatchError } from './command-support';
import { createTestIo } from '../testing/captured-output';

const options = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

describe('parseArguments', () => {
  it('returns what parseArgs returns, and its complaints as UsageErrors', () => {
    expect(parseArguments({ args: ['--json'], options }).values).toEqual({ json: true });
    expect(() => parseArguments({ args: ['--nope'], options })).toThrow(UsageError);
  });
});

describe('parseCommandArgs', () => {
  it('returns the parsed arguments when the command is to run', () => {
    const { io, out, err } = createTestIo();
    const parsed = parseCommandArgs('thing', 'usage: thing', io, { args: ['--json', 'a'], allowPositionals: true, options });
    expect(typeof parsed === 'number' ? parsed : parsed.positionals).toEqual(['a']);
    expect(out() + err()).toBe('');
  });

  it('prints the usage for --help and returns 0', () => {
    const { io, out, err } = createTestIo();
    expect(parseCommandArgs('thing', 'usage: thing', io, { args: ['-h'], options })).toBe(0);
    expect(out()).toBe('usage: thing\n');
    expect(err()).toBe('');
  });

  it('prints the parse error with the usage and returns 2', () => {
    const { io, out, err } = createTestIo();
    expect(parseCommandArgs('thing', 'usage: thing', io, { args: ['--nope'], options })).toBe(2);
    expect(err()).toMatch(/^calwatch thing: .*'--nope'.*\nusage: thing\n$/);
    expect(out()).toBe('');
  });
});

describe('checkNoArguments', () => {
  it('lets a command without arguments run', () => {
    const { io, out, err } = createTestIo();
    expect(checkNoArguments('thing', 'usage: thing', io, [])).toBeUndefined();
    expect(out() + err()).toBe('');
  });

  it('prints the usage for -h and returns 0, names unexpected arguments and returns 2', () => {
    const help = createTestIo();
    expect(checkNoArguments('thing', 'usage: thing', help.io, ['x', '-h'])).toBe(0);
    expect(help.out()).toBe('usage: thing\n');
    const extra = createTestIo();
    expect(checkNoArguments('thing', 'usage: thing', extra.io, ['x', '--y'])).toBe(2);
    expect(extra.err()).toBe('calwatch thing: unexpected arguments: x --y\nusage: thing\n');
  });
});

describe('reportCalwatchError', () => {
  it('prints a calwatch error with its code and returns the exit code', () => {
    const { io, err } = createTestIo();
    const error = SHARED_ERRORS.create('SHARED_CONFIG_INVALID', 'KAFKA_BROKERS is empty');
    expect(reportCalwatchError('thing', io, error)).toBe(1);
    expect(reportCalwatchError('thing', io, error, 2)).toBe(2);
    expect(err()).toBe('calwatch thing: SHARED_CONFIG_INVALID: KAFKA_BROKERS is empty\n'.repeat(2));
  });

  it('rethrows anything else', () => {
    const { io } = createTestIo();
    const bug = new TypeError('x is undefined');
    expect(() => reportCalwatchError('thing', io, bug)).toThrow(bug);
  });
});
