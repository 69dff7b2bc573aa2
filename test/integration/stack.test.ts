import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isCalwatchError } from '@calwatch/model';
import { loadStackSettings, releaseStackLease, stackStatus, stackUp } from '@calwatch/stack';
import { freePort } from '../harness/free-port';
import { getTestServices } from '../harness/services';

const localStack = getTestServices().source === 'local-stack';

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('calwatch stack', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  // These check the project's own stack; with services from the environment or containers there is none.
  it.runIf(localStack)('up on a running stack starts nothing and says it runs', async () => {
    // As a test run does (a lease): a plain `up` would claim the stack as started by hand,
    // and the harness would then leave it running after the tests.
    const settings = loadStackSettings(process.env);
    const result = await stackUp({ settings, lease: true });
    cleanups.push(async () => void (await releaseStackLease({ settings })));
    expect(result.started).toEqual([]);
    expect(result.alreadyRunning.sort()).toEqual(['elasticsearch', 'kafka']);
    const status = await stackStatus({ settings });
    for (const component of status.components) {
      expect(component.running).toBe(true);
      expect(component.health?.ok).toBe(true);
      expect(component.logFiles.length).toBeGreaterThan(0);
    }
  });

  it.runIf(localStack)('refuses a taken port by name, and starts nothing', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'calwatch-stack-test-'));
    cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
    const [kafkaPort, controllerPort, esPort, transportPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const squatter = await listen(kafkaPort);
    cleanups.push(() => new Promise((resolve) => squatter.close(() => resolve())));
    const env = {
      ...process.env,
      CALWATCH_STACK_DIR: stateDir,
      CALWATCH_STACK_KAFKA_PORT: String(kafkaPort),
      CALWATCH_STACK_KAFKA_CONTROLLER_PORT: String(controllerPort),
      CALWATCH_STACK_ELASTICSEARCH_PORT: String(esPort),
      CALWATCH_STACK_ELASTICSEARCH_TRANSPORT_PORT: String(transportPort),
    };
    const settings = loadStackSettings(env);
    const error = await stackUp({ settings }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isCalwatchError(error, 'STACK_PORT_IN_USE')).toBe(true);
    expect((error as Error).message).toContain(String(kafkaPort));
    const status = await stackStatus({ settings });
    expect(status.components.map((c) => c.running)).toEqual([false, false]);
  });
});
