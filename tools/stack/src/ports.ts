import { createServer, Socket } from 'node:net';
import { STACK_ERRORS } from './errors';

/** True when nothing listens on host:port (we could bind it ourselves). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') resolve(false);
      else reject(error);
    });
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** True when something accepts TCP connections on host:port. */
export function isPortOpen(port: number, host = '127.0.0.1', timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect(port, host);
  });
}

/** Fails naming every port of `wanted` that is taken, before anything is started. */
export async function assertPortsFree(wanted: Array<{ port: number; use: string }>): Promise<void> {
  const taken: string[] = [];
  for (const { port, use } of wanted) {
    if (!(await isPortFree(port))) taken.push(`${port} (${use})`);
  }
  if (taken.length > 0) {
    throw STACK_ERRORS.create(
      'STACK_PORT_IN_USE',
      `port ${taken.join(', ')} already in use by a process this stack did not start; stop it or set ` +
        'CALWATCH_STACK_KAFKA_PORT / CALWATCH_STACK_KAFKA_CONTROLLER_PORT / CALWATCH_STACK_ELASTICSEARCH_PORT / ' +
        'CALWATCH_STACK_ELASTICSEARCH_TRANSPORT_PORT',
      { context: { ports: wanted.map((w) => w.port) } },
    );
  }
}
