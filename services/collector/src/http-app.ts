import { randomUUID } from 'node:crypto';
import type { ServerOptions } from 'node:http';
import type { Readable } from 'node:stream';
import Fastify, { LogController, type FastifyReply, type FastifyRequest, type FastifyServerFactory } from 'fastify';
import { parseStream, type InputFormat, type ParseOptions, type ParsedBatch } from '@calwatch/ingest';
import { CalwatchError, buildDeadLetterOriginal, isCalwatchError, normalizeComputer, type DeadLetter } from '@calwatch/model';
import { type Logger } from '@calwatch/runtime';
import { parseContentEncoding, readBody, type BodyStream } from './body-stream';
import { COLLECTOR_ERRORS, httpStatusOf, type CollectorErrorCode } from './errors';
import type { AuthFailureLimiter } from './auth-failure-limiter';
import type { InFlightBudget } from './in-flight-budget';
import type { IngestResult, Ingestor, ItemKind } from './ingestor';
import type { KafkaAvailability } from './kafka-availability';
import type { CollectorMetrics } from './metrics';
import { grantCovers, type TokenGrant, type TokenStore } from './token-auth';

/** A parser of request bodies as parseStream: non-empty batches of items, in input order. */
export type ParseFn = (input: AsyncIterable<Buffer | string>, options: ParseOptions) => AsyncIterable<ParsedBatch>;

export interface HttpLimits {
  maxBodyBytes: number;
  maxDecompressedBytes: number;
  maxClockSkewMs: number;
  retryAfterSeconds: number;
  /** First byte to response; a slow upload is cut off (408) rather than holding a slot. */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  /** A socket that sends nothing for this long is closed (a stalled body). */
  idleTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export interface Readiness {
  /** For /readyz: serving and Kafka healthy. */
  ready: boolean;
  /** Ingest requests are taken (state restored, not stopping); Kafka health is checked per request. */
  serving: boolean;
  checks: Record<string, string>;
}

export interface CollectorAppOptions {
  logger: Logger;
  tokens: TokenStore;
  /** Failed authentications per client address. */
  authLimiter: AuthFailureLimiter;
  ingestor: Ingestor;
  budget: InFlightBudget;
  availability: KafkaAvailability;
  metrics: CollectorMetrics;
  limits: HttpLimits;
  readiness: () => Readiness;
  /** Writes the dead letter of a request refused as a whole (body too large, broken gzip). */
  deadLetterRequest: (deadLetter: DeadLetter) => Promise<void>;
  parse?: ParseFn;
  now?: () => Date;
  /** Builds the listening server (HTTPS when COLLECTOR_TLS_* are set); fastify's plain HTTP server otherwise. */
  serverFactory?: FastifyServerFactory;
}

/** Who may call a route: decided per route when it is declared, never from the URL text. */
type RouteAuth = 'token' | 'public';

interface RouteConfig {
  auth: RouteAuth;
}

interface IngestRoute {
  url: string;
  /** Content-Type (without parameters) → the format to read, or undefined to detect it. */
  mediaTypes: Record<string, InputFormat | undefined>;
  accepts: ReadonlySet<ItemKind>;
  snapshot: boolean;
}

const CSV_OR_JSON = ['text/csv', 'application/csv', 'application/json'] as const;
const NDJSON = ['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/json'] as const;

function mediaMap(types: readonly string[], format: InputFormat | undefined): Record<string, InputFormat | undefined> {
  return Object.fromEntries(types.map((type) => [type, format]));
}

export const INGEST_ROUTES: readonly IngestRoute[] = [
  {
    url: '/v1/snapshots/issued-licenses',
    mediaTypes: mediaMap(CSV_OR_JSON, 'wmi-issued-licenses'),
    accepts: new Set<ItemKind>(['issued-license']),
    snapshot: true,
  },
  {
    url: '/v1/snapshots/keypacks',
    mediaTypes: mediaMap(CSV_OR_JSON, 'wmi-keypacks'),
    accepts: new Set<ItemKind>(['keypack']),
    snapshot: true,
  },
  {
    url: '/v1/events',
    // NDJSON is Winlogbeat / Elastic Agent or canonical: the parser tells them apart per input.
    mediaTypes: { ...mediaMap(NDJSON, undefined), ...mediaMap(['application/xml', 'text/xml'], 'evtx-xml') },
    accepts: new Set<ItemKind>(['event']),
    snapshot: false,
  },
  {
    url: '/v1/client-stores',
    mediaTypes: mediaMap(NDJSON, 'client-store'),
    accepts: new Set<ItemKind>(['event']),
    snapshot: false,
  },
];

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,253}$/;
/** Body codes for which the refused request is kept as a dead letter (its first bytes). */
const DEAD_LETTERED_BODY_ERRORS: ReadonlySet<string> = new Set(['COLLECTOR_BAD_GZIP', 'COLLECTOR_BODY_TOO_LARGE', 'COLLECTOR_DECOMPRESSED_TOO_LARGE']);

/**
 * Node server options that bound slow clients. A serverFactory (HTTPS) must build its
 * server with them: the checking interval can only be given to the constructor.
 */
export function buildServerTimeouts(limits: HttpLimits): Pick<ServerOptions, 'headersTimeout' | 'requestTimeout' | 'keepAliveTimeout' | 'connectionsCheckingInterval'> {
  return {
    headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks both timeouts on this period (30 s by default), which would let a slow
    // client keep its slot up to that much longer than the limit says.
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function fail(code: CollectorErrorCode, message: string, context?: Record<string, unknown>): CalwatchError {
  return COLLECTOR_ERRORS.create(code, message, context === undefined ? {} : { context });
}

/**
 * The collector's HTTP API. Everything it needs comes in through the options, so tests
 * build it with an in-memory publisher and call it with `inject` (no port, no Kafka).
 */
export function buildCollectorApp(options: CollectorAppOptions) {
  const { tokens, authLimiter, ingestor, budget, availability, metrics, limits } = options;
  const parse = options.parse ?? parseStream;
  const now = options.now ?? (() => new Date());
  const logger = options.logger.child({ component: 'http' });

  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: buildServerTimeouts(limits),
    ...(options.serverFactory === undefined ? {} : { serverFactory: options.serverFactory }),
  });
  // Fastify applies its timeouts only to a server it builds itself: set them on one a
  // serverFactory built too (the checking interval must come with its constructor options).
  app.server.requestTimeout = limits.requestTimeoutMs;
  app.server.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  app.server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  app.server.setTimeout(limits.idleTimeoutMs);
  const grants = new WeakMap<FastifyRequest, TokenGrant>();

  // Bodies are streamed by the handlers (size limits, gzip, parsing as bytes arrive).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  function sendError(reply: FastifyReply, error: CalwatchError, extra: Record<string, unknown> = {}): FastifyReply {
    const status = httpStatusOf(error.code);
    if (status === 429 || status === 503) reply.header('retry-after', String(limits.retryAfterSeconds));
    return reply.code(status).send({ ...extra, error: { code: error.code, message: error.message } });
  }

  /** An early refusal of a request whose body was not read: close the connection rather than read it. */
  function refuse(reply: FastifyReply, request: FastifyRequest, error: CalwatchError): FastifyReply {
    if (request.headers['content-length'] !== '0' && request.method !== 'GET') reply.header('connection', 'close');
    return sendError(reply, error);
  }

  // Runs after routing, so it sees the route the request will reach, however its URL was
  // spelled (percent-encoded, mixed case): the route's own declaration decides.
  app.addHook('onRequest', async (request, reply) => {
    // Unknown paths answer 404 (see the not-found handler) without reading the body.
    if (request.is404) return undefined;
    const auth = (request.routeOptions.config as Partial<RouteConfig> | undefined)?.auth;
    if (auth === 'public') return undefined;
    // Any route that does not declare itself public needs a token (fail closed).
    const address = request.ip;
    const waitMs = authLimiter.blockedForMs(address, now().getTime());
    if (waitMs > 0) {
      metrics.authFailures.inc({ reason: 'rate-limited' });
      reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
      return refuse(reply, request, fail('COLLECTOR_AUTH_RATE_LIMITED', 'too many failed authentications from this address; retry later'));
    }
    const authorization = headerValue(request, 'authorization');
    const grant = tokens.authorize(authorization);
    if (grant === undefined) {
      authLimiter.recordFailure(address, now().getTime());
      metrics.authFailures.inc({ reason: authorization === undefined ? 'missing' : 'invalid' });
      reply.header('www-authenticate', 'Bearer realm="calwatch"');
      return refuse(reply, request, fail('COLLECTOR_UNAUTHORIZED', 'a valid bearer token is required (Authorization: Bearer <token>)'));
    }
    grants.set(request, grant);
    return undefined;
  });

  app.addHook('onResponse', async (request, reply) => {
    metrics.requests.inc({ route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });

  app.setNotFoundHandler((request, reply) => {
    void refuse(reply, request, fail('COLLECTOR_NOT_FOUND', `no endpoint ${request.method} ${(request.url.split('?')[0] ?? '').slice(0, 200)}`));
  });

  app.setErrorHandler((error, request, reply) => {
    if (isCalwatchError(error)) return sendError(reply, error);
    const status = (error as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return sendError(reply, fail('COLLECTOR_BAD_REQUEST', (error as Error).message));
    }
    request.log.error({ err: error }, 'request failed');
    return sendError(reply, fail('COLLECTOR_INTERNAL', 'internal error; see the collector logs'));
  });

  const PUBLIC: { config: RouteConfig } = { config: { auth: 'public' } };
  const TOKEN: { config: RouteConfig } = { config: { auth: 'token' } };

  app.get('/healthz', PUBLIC, async () => ({ status: 'ok' }));

  app.get('/readyz', PUBLIC, async (_request, reply) => {
    const readiness = options.readiness();
    return reply.code(readiness.ready ? 200 : 503).send({ ready: readiness.ready, checks: readiness.checks });
  });

  app.get('/metrics', PUBLIC, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });

  for (const route of INGEST_ROUTES) {
    app.post(route.url, TOKEN, (request, reply) => handleIngest(route, request, reply));
  }

  async function handleIngest(route: IngestRoute, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const receivedAt = now();
    const readiness = options.readiness();
    if (!readiness.serving) {
      return refuse(reply, request, fail('COLLECTOR_NOT_READY', `not ready: ${Object.entries(readiness.checks).map(([k, v]) => `${k}=${v}`).join(', ')}`));
    }

    const mediaType = (headerValue(request, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (!(mediaType in route.mediaTypes)) {
      return refuse(
        reply,
        request,
        fail('COLLECTOR_UNSUPPORTED_MEDIA_TYPE', `Content-Type '${mediaType || '(none)'}' is not accepted here; use one of: ${Object.keys(route.mediaTypes).join(', ')}`),
      );
    }
    const coding = parseContentEncoding(headerValue(request, 'content-encoding'));
    if (coding === undefined) {
      return refuse(reply, request, fail('COLLECTOR_UNSUPPORTED_ENCODING', `Content-Encoding '${headerValue(request, 'content-encoding') ?? ''}' is not accepted; use gzip or none`));
    }

    const ref = `http:${route.url}#${request.id}`;
    const declared = Number(headerValue(request, 'content-length') ?? Number.NaN);
    if (declared === 0) return refuse(reply, request, fail('COLLECTOR_EMPTY_BODY', 'the request body is empty'));
    if (declared > limits.maxBodyBytes) {
      const error = fail('COLLECTOR_BODY_TOO_LARGE', `body of ${declared} bytes exceeds ${limits.maxBodyBytes} bytes`);
      await deadLetterRefused(error, ref, Buffer.alloc(0), receivedAt);
      return refuse(reply, request, error);
    }

    let takenAt: string;
    let licenseServer: string | undefined;
    try {
      takenAt = snapshotTime(headerValue(request, 'x-calwatch-snapshot-time'), receivedAt);
      licenseServer = licenseServerHeader(headerValue(request, 'x-calwatch-license-server'));
    } catch (error) {
      return refuse(reply, request, error as CalwatchError);
    }
    // The onRequest hook stored a grant for every token route; none here is a wiring bug.
    const grant = grants.get(request);
    if (grant === undefined) throw new Error(`no token grant for ${route.url}`);
    if (licenseServer !== undefined && !grantCovers(grant, licenseServer)) {
      metrics.authFailures.inc({ reason: 'forbidden' });
      return refuse(reply, request, fail('COLLECTOR_FORBIDDEN', `this token may not post data of license server ${licenseServer}`));
    }

    if (!availability.tryEnter()) {
      return refuse(reply, request, fail('COLLECTOR_KAFKA_UNAVAILABLE', 'Kafka is not taking records at the moment'));
    }
    const lease = budget.tryAcquire(Number.isFinite(declared) ? declared : 0);
    if (lease === undefined) {
      return refuse(reply, request, fail('COLLECTOR_BUSY', `too much in flight (${budget.requests} requests, ${budget.bytes} bytes); Kafka is not keeping up`));
    }
    metrics.inFlightRequests.set(budget.requests);
    metrics.inFlightBytes.set(budget.bytes);

    const source = (request.body ?? request.raw) as Readable;
    const body = readBody(source, coding, { maxBytes: limits.maxBodyBytes, maxDecompressedBytes: limits.maxDecompressedBytes }, (decoded) => {
      if (!lease.grow(decoded)) {
        throw fail('COLLECTOR_BUSY', `too much in flight (${budget.requests} requests, ${budget.bytes} bytes); this body outgrew its share`);
      }
      metrics.inFlightBytes.set(budget.bytes);
    });
    try {
      const parseOptions: ParseOptions = { ref, observedTime: route.snapshot ? takenAt : receivedAt.toISOString() };
      const format = route.mediaTypes[mediaType];
      if (format !== undefined) parseOptions.format = format;
      if (licenseServer !== undefined) parseOptions.licenseServer = licenseServer;
      const result = await ingestor.ingest({
        batches: parse(body.chunks, parseOptions),
        ref,
        accepts: route.accepts,
        takenAt,
        ...(grant.servers === null ? {} : { allowsServer: (server: string) => grantCovers(grant, server) }),
      });
      return respond(route, reply, request, result, body);
    } catch (error) {
      if (isCalwatchError(error)) {
        if (DEAD_LETTERED_BODY_ERRORS.has(error.code)) await deadLetterRefused(error, ref, body.head(), receivedAt);
        if (error.code === 'COLLECTOR_FORBIDDEN') metrics.authFailures.inc({ reason: 'forbidden' });
        if (error.code === 'COLLECTOR_BODY_ABORTED') request.log.warn({ err: error, ref }, 'request body aborted');
        else if (httpStatusOf(error.code) >= 500) request.log.error({ err: error, ref }, 'ingest failed');
        // The rest of an unread body is not worth reading: end the connection.
        if (!source.readableEnded) reply.header('connection', 'close');
        return sendError(reply, error);
      }
      throw error;
    } finally {
      lease.release();
      metrics.inFlightRequests.set(budget.requests);
      metrics.inFlightBytes.set(budget.bytes);
    }
  }

  function respond(route: IngestRoute, reply: FastifyReply, request: FastifyRequest, result: IngestResult, body: BodyStream): FastifyReply {
    const summary = {
      requestId: request.id,
      accepted: result.accepted,
      rejected: result.rejected,
      events: result.events,
      rejections: result.rejections,
      ...(route.snapshot ? { stale: result.snapshots.length > 0 && result.snapshots.every((s) => s.stale), snapshots: result.snapshots } : {}),
    };
    for (const snapshot of result.snapshots) {
      metrics.snapshots.inc({ kind: snapshot.kind, outcome: snapshot.stale ? 'stale' : snapshot.partial ? 'partial' : 'applied' });
    }
    request.log.info({ ref: `http:${route.url}#${request.id}`, ...summary, rejections: undefined, snapshots: result.snapshots.length }, 'ingested');
    if (body.decodedBytes() === 0) return sendError(reply, fail('COLLECTOR_EMPTY_BODY', 'the request body is empty'));
    if (result.accepted === 0 && result.rejected > 0) {
      return sendError(reply, fail('COLLECTOR_UNPARSEABLE', `no record could be read; ${result.rejected} rejected (see rejections and the dead-letter topic)`), summary);
    }
    if (route.snapshot && result.rows === 0) {
      return sendError(reply, fail('COLLECTOR_EMPTY_SNAPSHOT', 'the snapshot holds no rows; an empty table is not read as every license returned'), summary);
    }
    if (result.accepted === 0) return sendError(reply, fail('COLLECTOR_EMPTY_BODY', 'the body holds no records'), summary);
    return reply.code(202).send(summary);
  }

  function snapshotTime(header: string | undefined, receivedAt: Date): string {
    if (header === undefined || header.trim() === '') return receivedAt.toISOString();
    const value = header.trim();
    const ms = ISO_INSTANT.test(value) ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(ms)) throw fail('COLLECTOR_BAD_HEADER', `X-Calwatch-Snapshot-Time '${value.slice(0, 64)}' is not an ISO-8601 instant with a time zone`);
    if (ms > receivedAt.getTime() + limits.maxClockSkewMs) {
      throw fail('COLLECTOR_BAD_HEADER', `X-Calwatch-Snapshot-Time ${value} is in the future; check the exporting host's clock`);
    }
    return new Date(ms).toISOString();
  }

  function licenseServerHeader(header: string | undefined): string | undefined {
    if (header === undefined || header.trim() === '') return undefined;
    const value = header.trim();
    if (!HOST_NAME.test(value)) throw fail('COLLECTOR_BAD_HEADER', `X-Calwatch-License-Server '${value.slice(0, 64)}' is not a host name`);
    return normalizeComputer(value);
  }

  async function deadLetterRefused(error: CalwatchError, ref: string, head: Buffer, at: Date): Promise<void> {
    // With Kafka down this would only delay the refusal.
    if (!availability.isHealthy()) return;
    const deadLetter: DeadLetter = {
      schemaVersion: 1,
      at: at.toISOString(),
      code: error.code,
      reason: `request refused as a whole: ${error.message}${head.length > 0 ? ` (original: the first ${head.length} bytes as sent)` : ''}`,
      location: { ref, line: null, record: null, field: null },
      issues: [],
      ...buildDeadLetterOriginal(head),
    };
    try {
      await options.deadLetterRequest(deadLetter);
    } catch (dlError) {
      logger.error({ err: dlError, ref, code: error.code }, 'could not dead-letter a refused request');
    }
  }

  return app;
}

export type CollectorApp = ReturnType<typeof buildCollectorApp>;
