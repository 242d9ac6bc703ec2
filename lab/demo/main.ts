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
import { parseSchema } from '../../shared/avro/schemas.js';
import { describeError } from '../../shared/errors.js';
import { csvSource, syntheticSource, type EventSource, type LabelledEvent } from '../generator/index.js';
import { kafkaConnectionFromEnv } from '../../shared/kafka/client.js';
import type { KafkaAdmin, Producer } from '../../shared/kafka/port.js';
import { createKafkaPort } from '../../shared/kafka/ports.js';
import { ensurePipelineTopics } from '../../shared/kafka/topics.js';
import { createLogger } from '../../shared/log.js';
import { pipelineNames, type PipelineNames } from '../../shared/pipeline.js';
import { createRedis, deleteKeysByPrefix, redisUrlFromEnv, type Redis } from '../../shared/redis/client.js';
import { ModelRegistry } from '../../shared/registry/index.js';
import { modelTrustFromEnv, writeSigningKeyPair } from '../../shared/registry/signing.js';
import { RedisAdapterState } from '../../shared/adaptation/state.js';
import { createObservations, type Observations } from '../report/evaluate.js';
import { buildReport } from '../report/build.js';
import { RESULTS_FILE } from '../report/results.js';
import { assembleResults } from './run-results.js';
import { createCollector } from './collector.js';
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

async function main(): Promise<number> {
  const opts = parseDemoOptions(process.argv.slice(2));
  const started = new Date();
  const runId = stamp(started);
  const runDir = resolve(opts.out, runId);
  await mkdir(runDir, { recursive: true });
  const pipeline = opts.pipeline ?? `demo-${runId.slice(0, 19).replace(/-/g, '').replace('T', '-')}`;
  const names: PipelineNames = pipelineNames(pipeline);
  // The demo's own log lines (stderr) stay quiet unless asked: the live view is the output.
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
  const wanted = process.env.SMAE_LOG_LEVEL as (typeof levels)[number] | undefined;
  const logger = createLogger({
    service: 'demo',
    level: wanted && levels.includes(wanted) ? wanted : 'warn',
  });
  const jsonMode = opts.json ?? !process.stdout.isTTY;
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
  const running: Running = { scorer: null, adapter: null };

  // 1. Infrastructure.
  const kafkaUp = await ensureKafka(localBrokerOptionsFromEnv(process.env, say));
  say(`Kafka ${kafkaUp.outcome} at ${kafkaUp.brokers}`);
  const redisUp = await ensureRedis(redisUrlFromEnv(process.env), say);
  say(`Redis ${redisUp.outcome} at ${new URL(redisUp.url).host}`);
  // Models are signed: a key pair for this run (its scorer and adapter trust only it), unless the
  // environment already names keys.
  const signing = demoSigningEnv(process.env, join(runDir, 'keys'));
  const childEnv: Record<string, string> = {
    KAFKA_BROKERS: kafkaUp.brokers,
    REDIS_URL: redisUp.url,
    ...signing,
  };
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
  let admin: KafkaAdmin | null = null;
  let producer: Producer | null = null;
  /** Stops the outputs collector (its consumer must leave the group before the group can be deleted). */
  let stopCollector: (() => Promise<void>) | null = null;
  const collectorGroup = `${pipeline}.demo-collector`;

  const cleanup = async (): Promise<void> => {
    await stopCollector?.().catch(() => undefined);
    for (const s of [running.adapter, running.scorer]) {
      if (!s) continue;
      const code = await stopService(s);
      if (code !== 0 && code !== null) say(`${s.name} exited with code ${code} (log: ${shown(s.logFile)})`);
    }
    await producer?.close().catch(() => undefined);
    if (opts.cleanup && admin) {
      await admin.deleteTopics(Object.values(names.topics)).catch(() => undefined);
      await admin.deleteGroups([collectorGroup, names.groups.scorer]).catch(() => undefined);
      // The pipeline's own keys (registry, window, adapter state) and the adapter's BullMQ queue.
      for (const prefix of [names.redisPrefix, `${names.queuePrefix}:`])
        await deleteKeysByPrefix(redis, prefix);
      say(`deleted the topics and Redis keys of ${pipeline}`);
    }
    await admin?.disconnect().catch(() => undefined);
    redis.disconnect();
  };

  try {
    // 2. Topics.
    admin = kafka.admin();
    await admin.connect();
    await ensurePipelineTopics(admin, names, { partitions: opts.partitions });
    say(`pipeline ${pipeline}: topics ${Object.values(names.topics).join(', ')}`);

    // 3. The stream.
    const source = await buildSource(opts);
    const schemaPath = join(runDir, 'record.avsc');
    await writeFile(schemaPath, `${JSON.stringify(source.schema, null, 2)}\n`);
    const recordType = parseSchema(source.schema as never, schemaPath);
    say(
      `source ${source.description}: ${source.trainRecords} training + ${source.streamRecords} streamed records`,
    );

    // 4. The first model.
    const { rows, published, trainSeconds } = await trainFirstModel({
      source,
      opts,
      pipeline,
      registry,
      logger,
      signal: abort.signal,
      say,
    });

    // 5. Outputs collector, scorer, adapter.
    const phaseNames = ['stable', 'abrupt', 'gradual', 'stream', 'train'];
    const obs: Observations = createObservations(source.streamRecords, phaseNames);
    const offsets = new OffsetIndex();
    const collector = createCollector({ kafka, names, obs, offsets, groupId: collectorGroup, logger });
    stopCollector = () => collector.stop();
    await collector.start();

    const services = await startPipelineServices({ opts, pipeline, runDir, schemaPath, env: childEnv, say });
    running.scorer = services.scorer;
    running.adapter = services.adapter;
    await waitReady(running.scorer, 180_000, abort.signal);
    if (running.adapter) await waitReady(running.adapter, 180_000, abort.signal);
    say('services ready; streaming');

    // 6. Stream, with the live view.
    // Idempotent, one request in flight: a send's records follow each other from its base offsets.
    // Every record names its partition (see stream.ts).
    producer = kafka.producer();
    await producer.connect(); // now, so the first batch's latency does not include it
    const live = new LiveView(pipeline, jsonMode ? 'json' : 'tty');
    const adapterState = new RedisAdapterState(redis, pipeline);
    let sent = 0;
    let currentPhase = 'stable';
    const streamStart = Date.now();
    const ticker = createLiveTicker({
      obs,
      collector,
      services: { scorer: running.scorer, adapter: running.adapter },
      adapterState,
      registry,
      view: live,
      total: source.streamRecords,
      progress: () => ({ sent, phase: currentPhase }),
    });
    const tick = ticker.tick;
    const state = ticker.counts;
    const liveSamples = ticker.samples;
    const timer = setInterval(() => void tick().catch(() => undefined), 1000);
    let streamError: unknown = null;
    try {
      sent = 0;
      await streamEvents({
        producer,
        topic: names.topics.records,
        partitions: opts.partitions,
        type: recordType,
        events: (async function* () {
          for await (const e of streamedPart(source)) {
            currentPhase = e.phase;
            yield e;
          }
        })(),
        indexBase: source.trainRecords,
        rate: opts.rate,
        obs,
        offsets,
        phaseCode: (p) => Math.max(0, phaseNames.indexOf(p)),
        signal: abort.signal,
        onSent: (n) => {
          sent = n;
        },
      });
    } catch (err) {
      streamError = err;
    }
    // 7. Drain: wait for the scores of what was sent.
    const drainUntil = Date.now() + (abort.signal.aborted ? 5000 : opts.drainTimeout);
    currentPhase = 'draining';
    for (;;) {
      collector.reconcile();
      const c = state();
      if (c.scored + c.dead >= sent || Date.now() > drainUntil || interrupts > 1) break;
      if (running.scorer.exitCode() !== undefined) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    clearInterval(timer);
    await tick(true).catch(() => undefined);
    live.release();
    if (streamError) say(`streaming stopped: ${describeError(streamError)}`);

    // 8. Results.
    collector.reconcile();
    const results = await assembleResults({
      obs,
      streamStart,
      registry,
      adapterState,
      collector: collector.stats,
      opts,
      interrupted: abort.signal.aborted,
      adapterRan: running.adapter !== null,
      published,
      run: { id: runId, started, pipeline, source: source.description, trainRecords: rows.length, sent },
      trainSeconds,
      live: liveSamples,
    });
    await writeFile(join(runDir, RESULTS_FILE), `${JSON.stringify(results, null, 2)}\n`);
    const report = await buildReport(runDir);
    const summary = formatSummary(results, {
      resultsPath: shown(join(runDir, RESULTS_FILE)),
      reportPath: report.path,
    });
    if (jsonMode)
      process.stdout.write(
        `${JSON.stringify({ event: 'summary', results: join(runDir, RESULTS_FILE), report: report.path, metrics: results.metrics.overall })}\n`,
      );
    process.stdout.write(summary);
    const scorerDied = running.scorer.exitCode() !== undefined;
    if (scorerDied) say(`the scorer stopped during the run; see ${running.scorer.logFile}`);
    return results.counts.scored === 0 || scorerDied ? 1 : 0;
  } finally {
    await cleanup();
    for (const line of infrastructureNote(kafkaUp, redisUp)) say(line);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
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
