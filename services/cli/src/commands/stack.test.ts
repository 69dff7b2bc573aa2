import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestIo } from '../testing/captured-output';
import { command } from './stack';

describe('calwatch stack', () => {
  let stateDir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'calwatch-stack-cmd-'));
    env = { PATH: process.env.PATH, HOME: stateDir, CALWATCH_STACK_DIR: stateDir, CALWATCH_CACHE_DIR: join(stateDir, 'cache') };
  });
  afterAll(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('rejects unknown actions and options with usage', async () => {
    const a = createTestIo({ env });
    expect(await command.run(['sideways'], a.io)).toBe(2);
    expect(a.err()).toContain('usage: calwatch stack');
    const b = createTestIo({ env });
    expect(await command.run(['up', '--fast'], b.io)).toBe(2);
    // down and status act on whatever mode runs.
    const c = createTestIo({ env });
    expect(await command.run(['status', '--tls'], c.io)).toBe(2);
    expect(c.err()).toContain('--tls');
  });

  it('reports a stack that is not running, with its log files, and exits 3', async () => {
    const { io, out } = createTestIo({ env });
    expect(await command.run(['status'], io)).toBe(3);
    expect(out()).toContain(`state dir ${stateDir}`);
    expect(out()).toMatch(/Kafka: not running \(ports 9092\/9093\)/);
    expect(out()).toContain(join(stateDir, 'kafka', 'logs', 'server.log'));
  });

  it('says so when asked to stop a stack that is not running', async () => {
    const { io, out } = createTestIo({ env });
    expect(await command.run(['down'], io)).toBe(0);
    expect(out()).toContain('nothing was running.');
  });

  it('reports invalid settings by code', async () => {
    const { io, err } = createTestIo({ env: { ...env, CALWATCH_STACK_KAFKA_PORT: 'many' } });
    expect(await command.run(['status'], io)).toBe(1);
    expect(err()).toContain('STACK_SETTINGS_INVALID');
  });
});
