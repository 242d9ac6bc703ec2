/**
 * The operations endpoint every service exposes: `/metrics` (Prometheus text), `/healthz` (liveness:
 * the process is not wedged) and `/readyz` (readiness: it does useful work, e.g. a model is loaded and
 * the consumer has joined its group). Both probes answer 200 or 503 with a JSON body saying why, so
 * `kubectl describe` and a human with curl see the reason, not just a status.
 *
 * Plain node:http: three routes do not need a framework.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { silentLogger, type Logger } from '../log.js';
import { ConfigError } from '../errors.js';

export interface ProbeResult {
  ok: boolean;
  /** Why not, or what is fine; shown in the probe's JSON body. */
  detail?: Record<string, unknown>;
}

export type Probe = () => ProbeResult | Promise<ProbeResult>;

export interface OpsServerOptions {
  registry: Registry;
  /** Liveness; default: always ok. */
  health?: Probe;
  /** Readiness; default: always ok. */
  ready?: Probe;
  /** 0 picks a free port (tests); default 9464. */
  port?: number;
  /** The setting that chooses the port, named when it is taken; default `SMAE_METRICS_PORT / --metrics-port`. */
  portSetting?: string;
  host?: string;
  logger?: Logger;
}

export interface OpsServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const log = (opts.logger ?? silentLogger).child({ component: 'ops-server' });
  const health: Probe = opts.health ?? (() => ({ ok: true }));
  const ready: Probe = opts.ready ?? (() => ({ ok: true }));

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch((err: unknown) => {
      log.warn({ err: (err as Error).message, url: req.url }, 'ops request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      const body = await opts.registry.metrics();
      res.writeHead(200, { 'content-type': opts.registry.contentType }).end(body);
      return;
    }
    if (path === '/healthz' || path === '/readyz') {
      const result = await (path === '/healthz' ? health : ready)();
      res
        .writeHead(result.ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(`${JSON.stringify({ ok: result.ok, ...result.detail })}\n`);
      return;
    }
    res
      .writeHead(404, { 'content-type': 'text/plain' })
      .end('not found: try /metrics, /healthz or /readyz\n');
  }

  const wanted = opts.port ?? 9464;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, wanted, opts)));
    server.listen(wanted, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1';
  log.info({ port }, 'ops server listening');
  return {
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A port that is taken or not allowed is a configuration error naming the port and the setting. */
function listenError(err: NodeJS.ErrnoException, port: number, opts: OpsServerOptions): Error {
  const setting = opts.portSetting ?? 'SMAE_METRICS_PORT / --metrics-port';
  const host = opts.host ?? '0.0.0.0';
  if (err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
    const what =
      err.code === 'EADDRINUSE'
        ? `port ${port} is already in use on ${host} (another process listens there)`
        : err.code === 'EACCES'
          ? `port ${port} on ${host} is not allowed for this user`
          : `address ${host} is not an address of this host`;
    return new ConfigError('the metrics server cannot listen', [
      {
        path: err.code === 'EADDRNOTAVAIL' ? 'SMAE_METRICS_HOST / --metrics-host' : setting,
        message: `${what}: set ${setting.split(' / ')[0]} to a free port (0 picks any free one)`,
      },
    ]);
  }
  return err;
}
