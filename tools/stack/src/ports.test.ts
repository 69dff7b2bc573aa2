import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCalwatchError } from '@calwatch/model';
import { assertPortsFree, isPortFree, isPortOpen } from './ports';

describe('port checks', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('sees a port someone listens on as taken and open', async () => {
    expect(await isPortFree(port)).toBe(false);
    expect(await isPortOpen(port)).toBe(true);
  });

  it('names the taken port and its use', async () => {
    let caught: unknown;
    try {
      await assertPortsFree([{ port, use: 'Kafka broker' }]);
    } catch (error) {
      caught = error;
    }
    expect(isCalwatchError(caught, 'STACK_PORT_IN_USE')).toBe(true);
    expect((caught as Error).message).toContain(`port ${port} (Kafka broker)`);
  });

  it('sees a released port as free', async () => {
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const freed = (other.address() as { port: number }).port;
    await new Promise((resolve) => other.close(resolve));
    expect(await isPortFree(freed)).toBe(true);
    expect(await isPortOpen(freed)).toBe(false);
    await expect(assertPortsFree([{ port: freed, use: 'x' }])).resolves.toBeUndefined();
  });
});
