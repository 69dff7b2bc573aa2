import { createServer, type Server } from 'node:http';

/** What /metrics serves: a service's registry (createServiceMetrics). */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface ProbeServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  host?: string;
  metrics: MetricsSource;
  /** /readyz: 200 when ready, else 503 with the reasons. */
  readiness(): { ready: boolean; reasons: Record<string, unknown> };
}

/** GET /metrics (Prometheus text), /healthz (the process answers) and /readyz. */
export interface ProbeServer {
  /** Resolves with the port listened on. */
  start(): Promise<number>;
  stop(): Promise<void>;
}

/** The one probe endpoint of the services without an HTTP app of their own (processor, indexer, notifier). */
export function createProbeServer(options: ProbeServerOptions): ProbeServer {
  let server: Server | undefined;
  return {
    async start() {
      server = createServer((req, res) => {
        const path = (req.url ?? '').split('?')[0];
        if (req.method !== 'GET') {
          res.writeHead(405).end();
        } else if (path === '/metrics') {
          options.metrics.metrics().then(
            (text) => res.writeHead(200, { 'content-type': options.metrics.contentType }).end(text),
            () => res.writeHead(500).end(),
          );
        } else if (path === '/healthz') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok' }));
        } else if (path === '/readyz') {
          const { ready, reasons } = options.readiness();
          res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ready ? 'ready' : 'not ready', reasons }));
        } else {
          res.writeHead(404).end();
        }
      });
      const listening = server;
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
      });
      const address = listening.address();
      return typeof address === 'object' && address !== null ? address.port : options.port;
    },
    async stop() {
      const current = server;
      server = undefined;
      if (current === undefined) return;
      current.closeAllConnections();
      await new Promise<void>((resolve) => current.close(() => resolve()));
    },
  };
}
