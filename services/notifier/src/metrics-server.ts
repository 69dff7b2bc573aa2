import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** GET /metrics in the Prometheus text format; nothing else. */
export interface MetricsServer {
  start(): Promise<number>;
  stop(): Promise<void>;
}

export function createMetricsServer(registry: Registry, port: number, host = '0.0.0.0'): MetricsServer {
  let server: Server | undefined;
  return {
    async start() {
      server = createServer((req, res) => {
        if (req.method !== 'GET' || req.url !== '/metrics') {
          res.writeHead(404).end();
          return;
        }
        registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
          () => res.writeHead(500).end(),
        );
      });
      const listening = server;
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(port, host, () => resolve());
      });
      const address = listening.address();
      return typeof address === 'object' && address !== null ? address.port : port;
    },
    async stop() {
      const current = server;
      server = undefined;
      if (current === undefined) return;
      await new Promise<void>((resolve) => current.close(() => resolve()));
    },
  };
}
