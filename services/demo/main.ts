/**
 * `npm run demo`: the whole pipeline, live, on this machine.
 *
 *   1. local Kafka (deploy/kafka) and Redis, or the ones KAFKA_BROKERS / REDIS_URL name;
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
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { Partitioners, type Admin, type Producer } from 'kafkajs';
import { ensureKafka, REPO_ROOT } from '../../deploy/kafka/broker.js';
import { localBrokerOptionsFromEnv } from '../../deploy/kafka/options.js';
import { parseSchema } from '../../shared/avro/schemas.js';
import { describeError } from '../../shared/errors.js';
import {
  csvSource,
  syntheticSource,
  type EventSource,
  type LabelledEvent,
} from '../../shared/generator/index.js';
import { createKafka, kafkaConnectionFromEnv } from '../../shared/kafka/client.js';
import { ensurePipelineTopics } from '../../shared/kafka/topics.js';
import { createLogger } from '../../shared/log.js';
import { pipelineNames, type PipelineNames } from '../../shared/pipeline.js';
import { createRedis, deleteKeysByPrefix, redisUrlFromEnv, type Redis } from '../../shared/redis/client.js';
import { ModelRegistry } from '../../shared/registry/index.js';
import { RedisAdapterState } from '../../shared/adaptation/state.js';
import type { CycleOutcome } from '../../shared/adaptation/types.js';
import { trainInWorker } from '../../shared/training/run-worker.js';
import type { TrainingRow } from '../../shared/training/rows.js';
import { createObservations, measure, segmentMetrics, type Observations } from '../report/evaluate.js';
import { buildReport } from '../report/build.js';
import {
  RESULTS_FILE,
  RESULTS_FORMAT,
  parseRunResults,
  type AdaptationEntry,
  type LiveSample,
  type ModelVersionEntry,
  type RunResults,
} from '../report/results.js';
import { createCollector } from './collector.js';
import { LiveView, type LiveState } from './live.js';
import { parseDemoOptions, type DemoOptions } from './options.js';
import { freePort, startService, stopService, waitReady, type Service } from './processes.js';
import { scrape, sumOf } from './prometheus.js';
import { ensureRedis } from './redis-local.js';
import { OffsetIndex, streamEvents } from './stream.js';
import { formatSummary } from './summary.js';

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

async function trainingRows(source: EventSource): Promise<TrainingRow[]> {
  const names = source.features.map((f) => f.name);
  const rows: TrainingRow[] = [];
  for await (const e of source.events()) {
    if (e.phase !== 'train') break;
    const row: TrainingRow = {};
    for (const n of names) row[n] = e.record[n] as number | string;
    rows.push(row);
  }
  return rows;
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
  const childEnv: Record<string, string> = { KAFKA_BROKERS: kafkaUp.brokers, REDIS_URL: redisUp.url };
  const kafka = createKafka(
    kafkaConnectionFromEnv({ ...process.env, ...childEnv }, { clientId: `smae-demo-${pipeline}` }),
    logger,
  );
  const redis: Redis = createRedis(redisUp.url, { logger, connectionName: `smae-demo-${pipeline}` });
  const registry = new ModelRegistry({ redis, pipeline, logger });
  let admin: Admin | null = null;
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
    await producer?.disconnect().catch(() => undefined);
    if (opts.cleanup && admin) {
      await admin.deleteTopics({ topics: Object.values(names.topics) }).catch(() => undefined);
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
    const rows = await trainingRows(source);
    const numeric = source.features.filter((f) => f.kind === 'numeric').map((f) => f.name);
    const categorical = source.features.filter((f) => f.kind === 'categorical').map((f) => f.name);
    say(
      `training on ${rows.length} records (${opts.epochs} epochs, features ${[...numeric, ...categorical].join(', ')})…`,
    );
    const t0 = performance.now();
    let lastEpochLine = 0;
    const artifact = await trainInWorker(
      {
        rows,
        columns: [...numeric, ...categorical],
        numeric,
        categorical,
        source: source.description,
        pipeline,
        epochs: opts.epochs,
        seed: opts.seed,
        percentile: opts.percentile,
        backend: opts.backend,
        profile: opts.profile,
      },
      {
        logger,
        signal: abort.signal,
        onEpoch: (p) => {
          if (Date.now() - lastEpochLine > 3000 || p.epoch === p.epochs) {
            lastEpochLine = Date.now();
            say(`  epoch ${p.epoch}/${p.epochs}, loss ${p.loss.toPrecision(4)}`);
          }
        },
      },
    );
    const trainSeconds = (performance.now() - t0) / 1000;
    const published = await registry.publish(artifact, {
      publishedBy: 'trainer',
      reason: `demo: initial model on ${rows.length} records`,
      expectedParent: null,
    });
    say(
      `model v${published.version} published: threshold ${published.artifact.manifest.threshold.value.toPrecision(4)} ` +
        `(p${opts.percentile}), trained in ${trainSeconds.toFixed(1)} s on ${published.artifact.manifest.backend}`,
    );

    // 5. Outputs collector, scorer, adapter.
    const phaseNames = ['stable', 'abrupt', 'gradual', 'stream', 'train'];
    const obs: Observations = createObservations(source.streamRecords, phaseNames);
    const offsets = new OffsetIndex();
    const collector = createCollector({ kafka, names, obs, offsets, groupId: collectorGroup, logger });
    stopCollector = () => collector.stop();
    await collector.start();

    const scorerPort = await freePort();
    running.scorer = startService({
      name: 'scorer',
      entry: 'services/scorer/main.ts',
      runDir,
      opsPort: scorerPort,
      env: {
        ...childEnv,
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
    say(`scorer starting (pid ${running.scorer.child.pid}, log ${shown(running.scorer.logFile)})`);
    const adapterEntry = 'services/adapter/main.ts';
    let adapterPort: number | null = null;
    if (opts.adapter && existsSync(join(REPO_ROOT, adapterEntry))) {
      adapterPort = await freePort();
      running.adapter = startService({
        name: 'adapter',
        entry: adapterEntry,
        runDir,
        opsPort: adapterPort,
        env: {
          ...childEnv,
          SMAE_PIPELINE: pipeline,
          SMAE_EVERY: `${opts.adaptEvery}ms`,
          SMAE_METRICS_PORT: String(adapterPort),
          SMAE_METRICS_HOST: '127.0.0.1',
          SMAE_BACKEND: opts.backend,
          SMAE_LOG_LEVEL: 'info',
        },
      });
      say(`adapter starting (pid ${running.adapter.child.pid}, every ${opts.adaptEvery / 1000} s)`);
    } else if (opts.adapter) {
      say(`no ${adapterEntry} in this checkout: running without adaptation`);
    }
    await waitReady(running.scorer, 180_000, abort.signal);
    if (running.adapter) await waitReady(running.adapter, 180_000, abort.signal);
    say('services ready; streaming');

    // 6. Stream, with the live view.
    producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Every message names its partition (see stream.ts); this only silences kafkajs's v2 notice.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const live = new LiveView(pipeline, jsonMode ? 'json' : 'tty');
    const adapterState = new RedisAdapterState(redis, pipeline);
    const liveSamples: LiveSample[] = [];
    let sent = 0;
    let currentPhase = 'stable';
    const streamStart = Date.now();
    let prev = { at: streamStart, sent: 0, scored: 0, flags: 0 };
    const state = (): { scored: number; flags: number; dead: number } => {
      let scored = 0;
      let flags = 0;
      let dead = 0;
      for (let i = 0; i < obs.count; i++) {
        if (!Number.isNaN(obs.scoredAt[i]!)) scored++;
        flags += obs.flagged[i]!;
        dead += obs.deadLettered[i]!;
      }
      return { scored, flags, dead };
    };
    /** Threshold of each model version the scorer reported, read once from the registry. */
    const thresholds = new Map<number, number | null>();
    let ticking = false;
    const tick = async (force = false): Promise<void> => {
      if (ticking) return;
      ticking = true;
      try {
        collector.reconcile();
        const now = Date.now();
        const [scorerMetrics, adapterMetrics, outcomes] = await Promise.all([
          scrape(`${running.scorer!.opsUrl}/metrics`),
          running.adapter ? scrape(`${running.adapter.opsUrl}/metrics`) : Promise.resolve(null),
          adapterState.recentOutcomes(100).catch(() => [] as CycleOutcome[]),
        ]);
        const c = state();
        const dt = Math.max(0.001, (now - prev.at) / 1000);
        const version = scorerMetrics ? sumOf(scorerMetrics, 'smae_scorer_model_version') : NaN;
        const lag = scorerMetrics ? sumOf(scorerMetrics, 'smae_scorer_consumer_lag') : NaN;
        const soFar = segmentMetrics(
          obs,
          Array.from({ length: obs.count }, (_, i) => i),
        );
        const refusedOutcomes = outcomes.filter((x) => x.status === 'refused');
        const lastRefused = refusedOutcomes[0];
        const s: LiveState = {
          elapsedMs: now - streamStart,
          phase: currentPhase,
          sent,
          total: source.streamRecords,
          sentPerSecond: (sent - prev.sent) / dt,
          scored: c.scored,
          scoredPerSecond: (c.scored - prev.scored) / dt,
          flags: c.flags,
          flagsPerSecond: (c.flags - prev.flags) / dt,
          deadLetters: Math.max(
            collector.stats.deadLetters,
            scorerMetrics ? sumOf(scorerMetrics, 'smae_scorer_dead_letters_total') : 0,
          ),
          consumerLag: Number.isFinite(lag) && scorerMetrics ? lag : null,
          modelVersion: Number.isFinite(version) && version > 0 ? version : null,
          threshold: null,
          adaptationsPublished: outcomes.filter((x) => x.status === 'published').length,
          adaptationsRefused: refusedOutcomes.length,
          lastRefusal:
            lastRefused && lastRefused.status === 'refused' ? lastRefused.reasons.join(', ') : null,
          f1Macro: soFar.records > 0 ? soFar.f1Macro : null,
          recall: soFar.anomalies > 0 ? soFar.recall : null,
          fpr: soFar.records > 0 ? soFar.fpr : null,
          scorerUp: scorerMetrics !== null,
          adapterUp: running.adapter ? adapterMetrics !== null : null,
        };
        if (s.modelVersion !== null) {
          if (!thresholds.has(s.modelVersion)) {
            const v = s.modelVersion;
            thresholds.set(v, null);
            registry.get(v).then(
              (m) => thresholds.set(v, m.artifact.manifest.threshold.value),
              () => thresholds.delete(v),
            );
          }
          s.threshold = thresholds.get(s.modelVersion) ?? null;
        }
        live.update(s, force);
        liveSamples.push({
          atMs: now - streamStart,
          sent,
          scored: c.scored,
          flagged: c.flags,
          deadLetters: c.dead,
          consumerLag: s.consumerLag,
          modelVersion: s.modelVersion,
        });
        prev = { at: now, sent, scored: c.scored, flags: c.flags };
      } finally {
        ticking = false;
      }
    };
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
    const origin = Number.isNaN(obs.originMs) ? streamStart : obs.originMs;
    const versions = await registry.list();
    const modelVersions: ModelVersionEntry[] = versions
      .map((v) => ({
        version: v.version,
        parentVersion: v.parentVersion,
        publishedBy: v.publishedBy,
        reason: v.reason,
        publishedAtMs: Date.parse(v.publishedAt) - origin,
        threshold: v.threshold ?? NaN,
      }))
      .filter((v) => Number.isFinite(v.threshold))
      .sort((a, b) => a.version - b.version);
    const outcomes = (await adapterState.recentOutcomes(100)).reverse();
    const adaptations: AdaptationEntry[] = outcomes
      .filter((x) => x.status !== 'dry-run')
      .map((x) => ({
        atMs: Date.parse(x.finishedAt) - origin,
        outcome: x.status === 'published' ? 'published' : 'refused',
        version: x.status === 'published' ? x.version : null,
        reason:
          x.status === 'published'
            ? `from v${x.baseVersion}: ${x.figures?.supportRows ?? '?'} support rows, threshold ${fmt(x.figures?.thresholdBefore)} → ${fmt(
                x.figures?.thresholdAfter,
              )}`
            : x.reasons.join(', '),
        details: x.figures ? { ...x.figures } : {},
      }));
    const measured = measure(obs, { windows: opts.windows, deadLetters: collector.stats.deadLetters });
    const notes: string[] = [];
    if (abort.signal.aborted)
      notes.push('The run was interrupted: the figures cover the records sent before Ctrl-C.');
    if (measured.counts.unscored > 0) {
      notes.push(
        `${measured.counts.unscored} sent record(s) had no score when the demo stopped waiting; they are left out of the metrics.`,
      );
    }
    if (collector.stats.unmatched > 0)
      notes.push(`${collector.stats.unmatched} output(s) named an input the demo did not send.`);
    if (!running.adapter) notes.push('No adapter ran: the first model scored the whole stream.');
    if (Object.keys(collector.stats.deadLettersByCode).length > 0) {
      notes.push(`Dead letters by code: ${JSON.stringify(collector.stats.deadLettersByCode)}.`);
    }
    const m0 = published.artifact.manifest;
    const results: RunResults = parseRunResults({
      format: RESULTS_FORMAT,
      run: {
        id: runId,
        startedAt: started.toISOString(),
        endedAt: new Date().toISOString(),
        pipeline,
        source: source.description,
        seed: opts.seed,
        rate: opts.rate > 0 ? opts.rate : null,
        trainRecords: rows.length,
        streamRecords: sent,
        options: { ...opts, delivery: opts.delivery },
      },
      model: {
        initialVersion: published.version,
        threshold: m0.threshold.value,
        percentile: m0.threshold.percentile,
        features: m0.preprocessing.spec.features.map((f) => f.name),
        trainSeconds,
        backend: m0.backend,
      },
      ...measured,
      modelVersions,
      adaptations,
      live: liveSamples,
      notes,
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
    return measured.counts.scored === 0 || scorerDied ? 1 : 0;
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function fmt(v: number | null | undefined): string {
  return v === null || v === undefined ? '?' : v.toPrecision(3);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo: ${describeError(err)}\n`);
    process.exit(1);
  },
);
