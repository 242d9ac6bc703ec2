/**
 * The demo's scorer and adapter: child processes started from their own `main.ts` with environment
 * variables, as a deployment starts them, each with its ops server on a free loopback port.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../../tools/infra/kafka/broker.js';
import type { DemoOptions } from './options.js';
import { freePort, startService, type Service } from './processes.js';

export async function startPipelineServices(d: {
  opts: DemoOptions;
  pipeline: string;
  runDir: string;
  schemaPath: string;
  /** Connection settings and keys every child gets. */
  env: Record<string, string>;
  say(line: string): void;
}): Promise<{ scorer: Service; adapter: Service | null }> {
  const { opts, pipeline, runDir, schemaPath, say } = d;
  const scorerPort = await freePort();
  const scorer = startService({
    name: 'scorer',
    entry: 'services/scorer/main.ts',
    runDir,
    opsPort: scorerPort,
    env: {
      ...d.env,
      SMAE_PIPELINE: pipeline,
      SMAE_RECORD_SCHEMA: schemaPath,
      SMAE_EMIT_SCORES: 'true',
      SMAE_DELIVERY: opts.delivery,
      SMAE_FROM_BEGINNING: 'true',
      SMAE_METRICS_PORT: String(scorerPort),
      SMAE_METRICS_HOST: '127.0.0.1',
      SMAE_MODEL_POLL_MS: '1000',
      SMAE_BACKEND: opts.backend,
      SMAE_LOG_LEVEL: 'info',
      ...(opts.data ? {} : { SMAE_KEY_FIELD: 'entity_id', SMAE_EVENT_TIME_FIELD: 'event_time' }),
    },
  });
  say(`scorer starting (pid ${scorer.child.pid}, log ${shown(scorer.logFile)})`);
  const adapterEntry = 'services/adapter/main.ts';
  let adapter: Service | null = null;
  if (opts.adapter && existsSync(join(REPO_ROOT, adapterEntry))) {
    const adapterPort = await freePort();
    adapter = startService({
      name: 'adapter',
      entry: adapterEntry,
      runDir,
      opsPort: adapterPort,
      // Every service of the demo shares this machine; the adapter's cycles (0.2–0.7 s of CPU each on
      // the cpu backend) are batch work and yield to the scorer's hot path. In a deployment it has its own CPUs.
      niceness: 10,
      env: {
        ...d.env,
        SMAE_PIPELINE: pipeline,
        SMAE_EVERY: `${opts.adaptEvery}ms`,
        SMAE_METRICS_PORT: String(adapterPort),
        SMAE_METRICS_HOST: '127.0.0.1',
        SMAE_BACKEND: opts.backend,
        SMAE_LOG_LEVEL: 'info',
      },
    });
    say(`adapter starting (pid ${adapter.child.pid}, every ${opts.adaptEvery / 1000} s)`);
  } else if (opts.adapter) {
    say(`no ${adapterEntry} in this checkout: running without adaptation`);
  }
  return { scorer, adapter };
}

/** A path as the user would type it: relative to the working directory when it lies below it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}
