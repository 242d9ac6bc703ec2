/**
 * `npm run demo`: the whole pipeline, live, on this machine.
 *
 *   1. local Kafka (tools/infra/kafka) and Redis, or the ones KAFKA_BROKERS / REDIS_URL name;
 *   2. the pipeline's topics;
 *   3. a labelled stream: the built-in generator (drift phases, injected anomalies) or `--data FILE.csv`;
 *   4. the first model, trained on the stream's first part (trainer core, worker thread) and published
 *      to the registry;
 *   5. the scorer and the adapter as child processes, started from their own `main.ts` with environment
 *      variables, as a deployment starts them;
 *   6. the rest of the stream at `--rate`, with a live view fed by the services' /metrics, the registry,
 *      the adapter's ledger and the output topics;
 *   7. a summary against the labels, `runs/<time>/results.json` and the HTML report;
 *   8. everything it started stopped (SIGTERM, then SIGKILL), clients closed.
 *
 * Ctrl-C stops streaming early and still writes the results of what was sent; a second Ctrl-C stops at once.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { ensureKafka } from '../../tools/infra/kafka/broker.js';
import { localBrokerOptionsFromEnv } from '../../tools/infra/kafka/options.js';
import { warmUpBroker } from '../../tools/infra/kafka/warmup.js';
import { parseSchema } from '../../shared/avro/schemas.js';
import { describeError } from '../../shared/errors.js';
import { csvSource, syntheticSource, type EventSource, type LabelledEvent } from '../generator/index.js';
import { kafkaConnectionFromEnv } from '../../shared/kafka/client.js';
import type { KafkaAdmin, Producer } from '../../shared/kafka/port.js';
import { createKafkaPort } from '../../shared/kafka/ports.js';
import { ensurePipelineTopics } from '../../shared/kafka/topics.js';
import { createLogger, type Logger } from '../../shared/log.js';
import { pipelineNames, type PipelineNames } from '../../shared/pipeline.js';
import { createRedis, deleteKeysByPrefix, redisUrlFromEnv, type Redis } from '../../shared/redis/client.js';
import { ModelRegistry } from '../../shared/registry/index.js';
import { modelTrustFromEnv, writeSigningKeyPair } from '../../shared/registry/signing.js';
import { RedisAdapterState } from '../../shared/adaptation/state.js';
import { createObservations, type Observations } from '../report/evaluate.js';
import { buildReport } from '../report/build.js';
import { RESULTS_FILE, type RunResults } from '../report/results.js';
import { assembleResults } from './run-results.js';
import { createCollector, type Collector } from './collector.js';
import { LiveView } from './live.js';
import { parseDemoOptions, type DemoOptions } from './options.js';
import { stopService, waitReady, type Service } from './processes.js';
import { createLiveTicker } from './live-ticker.js';
import { trainFirstModel } from './first-model.js';
import { startPipelineServices } from './pipeline-services.js';
import { ensureRedis } from './redis-local.js';
import { OffsetIndex, streamEvents } from './stream.js';
import { formatSummary } from './summary.js';
import { infrastructureNote } from './infra-note.js';

/** A path as the user would type it: relative to the working directory when it lies below it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

const say = (line: string): void => {
  process.stderr.write(`[demo] ${line}\n`);
};

function stamp(d: Date): string {
  return d.toISOString().replace(/[:.]/g, '-');
}

async function buildSource(o: DemoOptions): Promise<EventSource> {
  if (o.data) {
    return csvSource({
      path: resolve(o.data),
      labelColumn: o.labelColumn,
      ...(o.keyColumn ? { keyColumn: o.keyColumn } : {}),
      trainShare: o.trainShare,
      anomalyShare: o.anomalyShare,
      seed: o.seed,
      maxRecords: o.records,
    });
  }
  return syntheticSource({
    seed: o.seed,
    trainRecords: o.trainRecords,
    records: o.records,
    anomalyShare: o.anomalyShare,
    driftScale: o.drift,
  });
}

async function* streamedPart(source: EventSource): AsyncGenerator<LabelledEvent> {
  for await (const e of source.events()) if (e.phase !== 'train') yield e;
}

interface Running {
  scorer: Service | null;
  adapter: Service | null;
}

/** What one run is called and where it writes. */
interface Run {
  opts: DemoOptions;
  started: Date;
  id: string;
  dir: string;
  pipeline: string;
  names: PipelineNames;
  logger: Logger;
  jsonMode: boolean;
}

async function openRun(opts: DemoOptions): Promise<Run> {
  const started = new Date();
  const id = stamp(started);
  const dir = resolve(opts.out, id);
  await mkdir(dir, { recursive: true });
  const pipeline = opts.pipeline ?? `demo-${id.slice(0, 19).replace(/-/g, '').replace('T', '-')}`;
  // The demo's own log lines (stderr) stay quiet unless asked: the live view is the output.
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
  const wanted = process.env.SMAE_LOG_LEVEL as (typeof levels)[number] | undefined;
  const logger = createLogger({
    service: 'demo',
    level: wanted && levels.includes(wanted) ? wanted : 'warn',
  });
  return {
    opts,
    started,
    id,
    dir,
    pipeline,
    names: pipelineNames(pipeline),
    logger,
    jsonMode: opts.json ?? !process.stdout.isTTY,
  };
}

/**
 * Ctrl-C (or SIGTERM) once: `signal` aborts, the stream stops and the results of what was sent are still
 * written; twice: the services are killed and the process exits.
 */
function handleInterrupts(running: Running): {
  signal: AbortSignal;
  count(): number;
  dispose(): void;
} {
  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    if (interrupts === 1) {
      say(
        'interrupted: stopping the stream, writing the results of what was sent (Ctrl-C again to quit now)',
      );
      abort.abort(new Error('interrupted'));
    } else {
      for (const s of [running.scorer, running.adapter]) s?.child.kill('SIGKILL');
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: abort.signal,
    count: () => interrupts,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Step 1: Kafka and Redis up (or named by the environment), the clients, and the run's signing keys. */
async function connect(run: Run) {
  const kafkaUp = await ensureKafka(localBrokerOptionsFromEnv(process.env, say));
  say(`Kafka ${kafkaUp.outcome} at ${kafkaUp.brokers}`);
  const redisUp = await ensureRedis(redisUrlFromEnv(process.env), say);
  say(`Redis ${redisUp.outcome} at ${new URL(redisUp.url).host}`);
  // Models are signed: a key pair for this run (its scorer and adapter trust only it), unless the
  // environment already names keys.
  const signing = demoSigningEnv(process.env, join(run.dir, 'keys'));
  const childEnv: Record<string, string> = {
    KAFKA_BROKERS: kafkaUp.brokers,
    REDIS_URL: redisUp.url,
    ...signing,
  };
  const { pipeline, logger } = run;
  const kafka = createKafkaPort(
    kafkaConnectionFromEnv({ ...process.env, ...childEnv }, { clientId: `smae-demo-${pipeline}` }),
    logger,
  );
  const redis: Redis = createRedis(redisUp.url, { logger, connectionName: `smae-demo-${pipeline}` });
  const registry = new ModelRegistry({
    redis,
    pipeline,
    logger,
    trust: modelTrustFromEnv({ ...process.env, ...signing }),
  });
  return { kafkaUp, redisUp, childEnv, kafka, redis, registry };
}
type Connections = Awaited<ReturnType<typeof connect>>;

/**
 * Beside step 4: while the first model trains, a local broker is warmed up (`warmUpBroker`: a JVM broker
 * answers slowly for its first minutes, and the run's latency should be the pipeline's, not the broker's
 * JIT compiler's). Never on a cluster KAFKA_BROKERS names; a failure is reported and the run goes on.
 */
function warmUpWhileTraining(run: Run, c: Connections): { stop(): Promise<void> } {
  if (!run.opts.warmUp || c.kafkaUp.outcome === 'external') return { stop: async () => undefined };
  const done = new AbortController();
  const warming = warmUpBroker(c.kafka, { signal: done.signal }).then(
    (r) =>
      say(
        `broker warmed up while the model trained: ${r.transactions} transactions in ${r.seconds.toFixed(1)} s` +
          (r.failures > 0
            ? ` (${r.failures} failed and retried, the last: ${describeError(r.lastError)})`
            : ''),
      ),
    (err: unknown) => say(`broker warm-up failed, the run goes on: ${describeError(err)}`),
  );
  return {
    stop: async () => {
      done.abort();
      await warming;
    },
  };
}

/** What the run opened, closed by `cleanup` in reverse. */
interface Opened {
  running: Running;
  admin: KafkaAdmin | null;
  producer: Producer | null;
  /** Stops the outputs collector (its consumer must leave the group before the group can be deleted). */
  stopCollector: (() => Promise<void>) | null;
}

/** Step 8: everything the run started stopped, and with `--cleanup` its topics, groups and keys deleted. */
async function cleanup(run: Run, c: Connections, opened: Opened): Promise<void> {
  await opened.stopCollector?.().catch(() => undefined);
  for (const s of [opened.running.adapter, opened.running.scorer]) {
    if (!s) continue;
    const code = await stopService(s);
    if (code !== 0 && code !== null) say(`${s.name} exited with code ${code} (log: ${shown(s.logFile)})`);
  }
  await opened.producer?.close().catch(() => undefined);
  const { admin } = opened;
  if (run.opts.cleanup && admin) {
    const { names } = run;
    await admin.deleteTopics(Object.values(names.topics)).catch(() => undefined);
    await admin.deleteGroups([collectorGroup(run), names.groups.scorer]).catch(() => undefined);
    // The pipeline's own keys (registry, window, adapter state) and the adapter's BullMQ queue.
    for (const prefix of [names.redisPrefix, `${names.queuePrefix}:`])
      await deleteKeysByPrefix(c.redis, prefix);
    say(`deleted the topics and Redis keys of ${run.pipeline}`);
  }
  await admin?.disconnect().catch(() => undefined);
  c.redis.disconnect();
}

const collectorGroup = (run: Run): string => `${run.pipeline}.demo-collector`;

/** Step 3: the labelled stream, and its record schema written beside the results (the scorer reads it). */
async function prepareSource(run: Run) {
  const source = await buildSource(run.opts);
  const schemaPath = join(run.dir, 'record.avsc');
  await writeFile(schemaPath, `${JSON.stringify(source.schema, null, 2)}\n`);
  const recordType = parseSchema(source.schema as never, schemaPath);
  say(
    `source ${source.description}: ${source.trainRecords} training + ${source.streamRecords} streamed records`,
  );
  return { source, schemaPath, recordType };
}

const PHASE_NAMES = ['stable', 'abrupt', 'gradual', 'stream', 'train'];

interface LiveRun {
  run: Run;
  c: Connections;
  opened: Opened;
  source: EventSource;
  recordType: ReturnType<typeof parseSchema>;
  obs: Observations;
  offsets: OffsetIndex;
  collector: Collector;
  interrupts: ReturnType<typeof handleInterrupts>;
}

/**
 * Steps 6 and 7: the rest of the stream at `--rate` with the live view ticking once a second, then the
 * drain (until every sent record is scored or dead-lettered, the drain timeout, or the scorer's exit).
 */
async function streamLive(d: LiveRun) {
  const { run, obs, collector, opened } = d;
  const scorer = opened.running.scorer!;
  // Idempotent, one request in flight: a send's records follow each other from its base offsets.
  // Every record names its partition (see stream.ts).
  const producer = d.c.kafka.producer();
  opened.producer = producer;
  await producer.connect(); // now, so the first batch's latency does not include it
  const live = new LiveView(run.pipeline, run.jsonMode ? 'json' : 'tty');
  const adapterState = new RedisAdapterState(d.c.redis, run.pipeline);
  let sent = 0;
  let currentPhase = 'stable';
  const streamStart = Date.now();
  const ticker = createLiveTicker({
    obs,
    collector,
    services: { scorer, adapter: opened.running.adapter },
    adapterState,
    registry: d.c.registry,
    view: live,
    total: d.source.streamRecords,
    progress: () => ({ sent, phase: currentPhase }),
  });
  const timer = setInterval(() => void ticker.tick().catch(() => undefined), 1000);
  let streamError: unknown = null;
  try {
    await streamEvents({
      producer,
      topic: run.names.topics.records,
      partitions: run.opts.partitions,
      type: d.recordType,
      events: (async function* () {
        for await (const e of streamedPart(d.source)) {
          currentPhase = e.phase;
          yield e;
        }
      })(),
      indexBase: d.source.trainRecords,
      rate: run.opts.rate,
      obs,
      offsets: d.offsets,
      phaseCode: (p) => Math.max(0, PHASE_NAMES.indexOf(p)),
      signal: d.interrupts.signal,
      onSent: (n) => {
        sent = n;
      },
    });
  } catch (err) {
    streamError = err;
  }
  const drainUntil = Date.now() + (d.interrupts.signal.aborted ? 5000 : run.opts.drainTimeout);
  currentPhase = 'draining';
  for (;;) {
    collector.reconcile();
    const c = ticker.counts();
    if (c.scored + c.dead >= sent || Date.now() > drainUntil || d.interrupts.count() > 1) break;
    if (scorer.exitCode() !== undefined) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  clearInterval(timer);
  await ticker.tick(true).catch(() => undefined);
  live.release();
  if (streamError) say(`streaming stopped: ${describeError(streamError)}`);
  return { sent, streamStart, adapterState, samples: ticker.samples };
}

async function main(): Promise<number> {
  const run = await openRun(parseDemoOptions(process.argv.slice(2)));
  const { opts, names } = run;
  const opened: Opened = {
    running: { scorer: null, adapter: null },
    admin: null,
    producer: null,
    stopCollector: null,
  };
  const interrupts = handleInterrupts(opened.running);

  // 1. Infrastructure.
  const c = await connect(run);
  try {
    // 2. Topics.
    const admin = c.kafka.admin();
    opened.admin = admin;
    await admin.connect();
    await ensurePipelineTopics(admin, names, { partitions: opts.partitions });
    say(`pipeline ${run.pipeline}: topics ${Object.values(names.topics).join(', ')}`);

    // 3. The stream.
    const { source, schemaPath, recordType } = await prepareSource(run);

    // 4. The first model (meanwhile, a local broker is warmed up).
    const warming = warmUpWhileTraining(run, c);
    const first = await trainFirstModel({
      source,
      opts,
      pipeline: run.pipeline,
      registry: c.registry,
      logger: run.logger,
      signal: interrupts.signal,
      say,
    }).finally(() => warming.stop());

    // 5. Outputs collector, scorer, adapter.
    const { obs, offsets, collector, services } = await startServices(
      run,
      c,
      opened,
      source,
      schemaPath,
      interrupts,
    );

    // 6. Stream, with the live view; 7. drain.
    const streamed = await streamLive({
      run,
      c,
      opened,
      source,
      recordType,
      obs,
      offsets,
      collector,
      interrupts,
    });

    // 8. Results.
    collector.reconcile();
    const results = await assembleResults({
      obs,
      streamStart: streamed.streamStart,
      registry: c.registry,
      adapterState: streamed.adapterState,
      collector: collector.stats,
      opts,
      interrupted: interrupts.signal.aborted,
      adapterRan: services.adapter !== null,
      published: first.published,
      run: {
        id: run.id,
        started: run.started,
        pipeline: run.pipeline,
        source: source.description,
        trainRecords: first.rows.length,
        sent: streamed.sent,
      },
      trainSeconds: first.trainSeconds,
      live: streamed.samples,
    });
    await writeResults(run, results);
    const scorerDied = services.scorer.exitCode() !== undefined;
    if (scorerDied) say(`the scorer stopped during the run; see ${services.scorer.logFile}`);
    return results.counts.scored === 0 || scorerDied ? 1 : 0;
  } finally {
    await cleanup(run, c, opened);
    for (const line of infrastructureNote(c.kafkaUp, c.redisUp)) say(line);
    interrupts.dispose();
  }
}

/**
 * Step 5: the collector reading the output topics, then the scorer and the adapter as child processes,
 * waited for until ready.
 */
async function startServices(
  run: Run,
  c: Connections,
  opened: Opened,
  source: EventSource,
  schemaPath: string,
  interrupts: ReturnType<typeof handleInterrupts>,
) {
  const obs = createObservations(source.streamRecords, PHASE_NAMES);
  const offsets = new OffsetIndex();
  const collector = createCollector({
    kafka: c.kafka,
    names: run.names,
    obs,
    offsets,
    groupId: collectorGroup(run),
    logger: run.logger,
  });
  opened.stopCollector = () => collector.stop();
  await collector.start();
  const services = await startPipelineServices({
    opts: run.opts,
    pipeline: run.pipeline,
    runDir: run.dir,
    schemaPath,
    env: c.childEnv,
    say,
  });
  opened.running.scorer = services.scorer;
  opened.running.adapter = services.adapter;
  await waitReady(services.scorer, 180_000, interrupts.signal);
  if (services.adapter) await waitReady(services.adapter, 180_000, interrupts.signal);
  say('services ready; streaming');
  return { obs, offsets, collector, services };
}

/** `results.json`, the HTML report beside it, and the summary on stdout (a JSON line first in JSON mode). */
async function writeResults(run: Run, results: RunResults): Promise<void> {
  const resultsPath = join(run.dir, RESULTS_FILE);
  await writeFile(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
  const report = await buildReport(run.dir);
  const summary = formatSummary(results, { resultsPath: shown(resultsPath), reportPath: report.path });
  if (run.jsonMode)
    process.stdout.write(
      `${JSON.stringify({ event: 'summary', results: resultsPath, report: report.path, metrics: results.metrics.overall })}\n`,
    );
  process.stdout.write(summary);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo: ${describeError(err)}\n`);
    process.exit(1);
  },
);

/** The signing settings of a demo run: the environment's, or a key pair generated into `dir`. */
function demoSigningEnv(env: NodeJS.ProcessEnv, dir: string): Record<string, string> {
  if (env.SMAE_SIGNING_KEY_FILE || env.SMAE_SIGNING_KEY || env.SMAE_TRUSTED_KEYS) return {};
  const pair = writeSigningKeyPair(dir, 'demo', { force: true });
  return { SMAE_SIGNING_KEY_FILE: pair.privateKeyFile, SMAE_TRUSTED_KEYS: pair.publicKeyFile };
}
