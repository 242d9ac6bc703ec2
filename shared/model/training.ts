/**
 * Training and adaptation of whole detectors: records in, a detector with a sealed manifest out.
 *
 * `trainDetector` is the report's procedure: fit the preprocessing on the training rows, train the
 * network (MSE + L1 activity, Keras-style Adam), optionally apply the report's post-training adaptation,
 * then fit the threshold policy — by default the report's, the 95th percentile of the training rows' MSE,
 * after adaptation, as the report does. With another policy (`threshold`), a share of the rows is held out
 * before anything is fitted (`calibrationFraction`, seeded): the preprocessing and the network never see
 * them, and the policy is fitted on their scores, so they are exchangeable with new normal rows.
 *
 * `adaptDetector` is the production form of the report's rapid adaptation: a copy of the base network
 * takes a few full-batch Adam steps on a support set, and the threshold policy is refitted on reference rows.
 * Choosing a safe support set (no flagged rows, guardrails) is the adapter's job, not this function's.
 */
import { SmaeError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { inferFeatureSpec, type InferFeatureSpecOptions } from '../preprocessing/infer.js';
import { Preprocessor } from '../preprocessing/preprocessor.js';
import type { FeatureSpec } from '../preprocessing/spec.js';
import { calibrationSplit, DEFAULT_CALIBRATION_FRACTION } from '../threshold/holdout.js';
import { thresholdInfoOf } from '../threshold/manifest.js';
import {
  calibrationRowsFor,
  fitPolicy,
  REPORT_POLICY,
  type AnyPolicy,
  type PolicySpec,
} from '../threshold/policy.js';
import { thresholdInterval } from '../threshold/percentile.js';
import { ARTIFACT_FORMAT, type AdaptationStats, type ModelManifest, type TrainingStats } from './artifact.js';
import { architectureFor, DEFAULT_L1_ACTIVITY } from './architecture.js';
import {
  DEFAULT_ADAPT_OPTIONS,
  DEFAULT_FIT_OPTIONS,
  SparseAutoencoder,
  type AdaptOptions,
  type EpochProgress,
  type FitOptions,
} from './autoencoder.js';
import { activeBackend } from './backend.js';
import { Detector } from './detector.js';
import { calibrate, trainEnsemble } from './ensemble.js';
import type { ProfileSettings } from './profile.js';
import { randomSeed } from '../random.js';

/** Rows already in model space (e.g. the evaluation's injected test rows, which are injected after scaling). */
export interface ModelRows {
  matrix: Float32Array;
  rows: number;
}

export type RowsInput = readonly Record<string, unknown>[] | ModelRows;

export interface TrainDetectorOptions {
  /** The feature spec; absent or `'infer'`: inferred from the rows (see `infer`). */
  spec?: FeatureSpec | 'infer';
  infer?: InferFeatureSpecOptions;
  /** Training options; `fit.seed` seeds both the initial weights and the shuffling (random if absent). */
  fit?: FitOptions;
  /** L1 activity penalty on the first hidden layer (1e-5). */
  l1Activity?: number;
  /** The threshold policy (default: the report's, the 95th percentile). */
  threshold?: PolicySpec;
  /**
   * The share of rows held out to fit the policy on (seeded by the fit seed); the preprocessing and the
   * network are fitted on the rest. 0 fits the policy on the training rows, the report's rule. Default:
   * 0 without `threshold`, `DEFAULT_CALIBRATION_FRACTION` with it.
   */
  calibrationFraction?: number;
  /** Where the training rows came from (a file, a topic range), recorded in the manifest. */
  source: string;
  pipeline?: string | null;
  /** The report's post-training adaptation (evaluation only): support rows, as records or model rows. */
  adaptOn?: RowsInput;
  adapt?: AdaptOptions;
  /** Recorded as `adaptation.policy` when `adaptOn` is given. */
  adaptPolicy?: string;
  /**
   * The model profile (`profile.ts`). Absent: the report's single network, as before profiles. A
   * profile sets the members, their training options, the score, the calibration share and the policy
   * (`threshold` and `calibrationFraction`, when given, override its own); the manifest records it.
   */
  profile?: ProfileSettings;
  logger?: Logger;
}

export interface AdaptDetectorOptions extends AdaptOptions {
  /** The policy fitted on the reference rows' scores (default: the base model's, refitted). */
  threshold?: PolicySpec;
  /** What the reference rows are, recorded in the threshold (`reference-window`). */
  reference?: string;
  /** How the support set was chosen, recorded in the manifest (`full-batch`). */
  policy?: string;
  /** Extra figures for the manifest's adaptation record (guardrail measurements, window bounds…). */
  stats?: Record<string, unknown>;
  pipeline?: string | null;
  logger?: Logger;
}

export async function trainDetector(
  rows: readonly Record<string, unknown>[],
  opts: TrainDetectorOptions,
  onEpoch?: (e: EpochProgress) => void,
): Promise<Detector> {
  if (opts.profile !== undefined)
    return trainProfileDetector(rows, { ...opts, profile: opts.profile }, onEpoch);
  const logger = opts.logger ?? silentLogger;
  const started = performance.now();
  const fitOpts: FitOptions = { ...opts.fit, seed: opts.fit?.seed ?? randomSeed() };
  const seed = fitOpts.seed!;
  const data = prepareTrainingRows(rows, opts, {
    fraction: calibrationFractionOf(opts),
    seed,
    policy: opts.threshold,
    infer: opts.infer,
  });
  const network = SparseAutoencoder.create(
    architectureFor(data.preprocessor.width, opts.l1Activity ?? DEFAULT_L1_ACTIVITY),
    seed,
  );
  try {
    logger.info(
      {
        rows: data.rows.length,
        columns: data.preprocessor.width,
        parameters: network.parameterCount,
        seed,
        backend: activeBackend(),
      },
      'training detector',
    );
    const fit = await network.fit(data.x, data.rows.length, { logger, ...fitOpts }, onEpoch);
    const adaptation = opts.adaptOn === undefined ? null : await reportAdaptation(network, data, opts);
    // The report's rule scores the training rows, after the adaptation, as the report does.
    const calibration = data.calibration ?? { x: data.x, rows: data.rows.length, name: 'training' };
    const threshold = fitPolicy(
      opts.threshold ?? REPORT_POLICY,
      network.reconstructionErrors(calibration.x, calibration.rows).mse,
      calibration.name,
    );
    const manifest = trainedManifest(opts, {
      started,
      seed,
      rows: data.rows.length,
      preprocessor: data.preprocessor,
      architecture: network.architecture,
      weightShapes: network.weightShapes,
      threshold,
      fit,
      adaptation,
    });
    logger.info(
      {
        finalLoss: fit.finalLoss,
        threshold: threshold.threshold,
        policy: threshold.describe(),
        seconds: manifest.training.wallSeconds,
      },
      'detector trained',
    );
    return Detector.assemble(network, data.preprocessor, manifest);
  } catch (err) {
    network.dispose();
    throw err;
  }
}

/** The report's post-training adaptation (evaluation only) on `opts.adaptOn`, and its record. */
async function reportAdaptation(
  network: SparseAutoencoder,
  data: PreparedRows,
  opts: TrainDetectorOptions,
): Promise<AdaptationStats> {
  const support = toModelRows(opts.adaptOn!, data.preprocessor, 'adaptOn');
  const a = { ...DEFAULT_ADAPT_OPTIONS, ...definedOnly(opts.adapt ?? {}) };
  const r = await network.adapt(support.matrix, support.rows, a);
  return {
    supportRows: support.rows,
    steps: a.steps,
    learningRate: a.learningRate,
    lossBefore: r.lossBefore,
    lossAfter: r.lossAfter,
    policy: opts.adaptPolicy ?? 'report: post-training adaptation on the supplied rows',
  };
}

/**
 * A new detector from `base`: a copy of its network adapted on `support` (fresh Adam, full-batch steps of
 * plain MSE), its threshold policy refitted on the scores of `reference`. The base is left untouched.
 * Records that cannot be prepared are left out and counted (`supportRejected`, `referenceRejected`).
 */
export async function adaptDetector(
  base: Detector,
  support: RowsInput,
  reference: RowsInput,
  opts: AdaptDetectorOptions = {},
): Promise<Detector> {
  const logger = opts.logger ?? silentLogger;
  const s = prepareLenient(base, support);
  const r = prepareLenient(base, reference);
  if (s.rows === 0) throw new SmaeError('INVALID_CONFIG', 'adaptation needs at least one valid support row');
  if (r.rows === 0)
    throw new SmaeError('INVALID_CONFIG', 'adaptation needs at least one valid reference row');
  const a = { ...DEFAULT_ADAPT_OPTIONS, ...definedOnly(opts) };
  if (base.manifest.ensemble !== undefined) return adaptProfileDetector(base, s, r, a, opts);
  const network = base.network.clone();
  try {
    const result = await network.adapt(s.matrix, s.rows, a);
    const referenceScores = network.reconstructionErrors(r.matrix, r.rows).mse;
    const referenceName = opts.reference ?? 'reference-window';
    const threshold = adaptedPolicy(base, opts, referenceScores, referenceName);
    const adaptation: AdaptationStats = {
      ...opts.stats,
      supportRows: s.rows,
      steps: a.steps,
      learningRate: a.learningRate,
      lossBefore: result.lossBefore,
      lossAfter: result.lossAfter,
      policy: opts.policy ?? 'full-batch',
      thresholdInterval: thresholdInterval(referenceScores, threshold.threshold),
      supportRejected: s.rejected,
      referenceRejected: r.rejected,
      previousThreshold: base.policy.threshold,
    };
    const manifest = adaptedManifest(base, opts.pipeline, threshold, adaptation);
    logger.info(
      { parentVersion: base.version, ...adaptation, threshold: threshold.threshold },
      'detector adapted',
    );
    return Detector.assemble(network, base.preprocessor, manifest);
  } catch (err) {
    network.dispose();
    throw err;
  }
}

/** The adapted model's threshold policy: the one asked for, else the base's own, fitted on the reference scores. */
function adaptedPolicy(
  base: Detector,
  opts: AdaptDetectorOptions,
  referenceScores: ArrayLike<number>,
  referenceName: string,
): AnyPolicy {
  return opts.threshold !== undefined
    ? fitPolicy(opts.threshold, referenceScores, referenceName)
    : base.policy.refit(referenceScores, referenceName);
}

/**
 * `trainDetector` for a profile: rows held out for calibration first (seeded; the preprocessing and the
 * networks never see them), the members trained on the rest (`trainEnsemble`), the score's statistics and
 * then the threshold policy fitted on the calibration rows' scores.
 */
async function trainProfileDetector(
  all: readonly Record<string, unknown>[],
  opts: TrainDetectorOptions & { profile: ProfileSettings },
  onEpoch?: (e: EpochProgress) => void,
): Promise<Detector> {
  const logger = opts.logger ?? silentLogger;
  const started = performance.now();
  const profile = opts.profile;
  const seed = opts.fit?.seed ?? randomSeed();
  const fraction =
    opts.calibrationFraction ??
    (opts.threshold !== undefined && profile.calibrationFraction === 0
      ? DEFAULT_CALIBRATION_FRACTION
      : profile.calibrationFraction);
  const data = prepareTrainingRows(all, opts, {
    fraction,
    seed,
    policy: opts.threshold ?? profile.threshold,
    infer: { scaler: profile.scale, ...opts.infer },
  });
  const rows = data.rows.length;
  const arch = architectureFor(data.preprocessor.width, opts.l1Activity ?? DEFAULT_L1_ACTIVITY);
  logger.info(
    {
      rows,
      calibrationRows: data.calibration?.rows ?? 0,
      columns: data.preprocessor.width,
      seed,
      profile: profile.name,
    },
    'training detector',
  );
  const { seed: _seed, epochs: _epochs, ...fitRest } = opts.fit ?? {};
  const trained = await trainEnsemble(arch, data.x, rows, profile, seed, { logger, ...fitRest }, (e) =>
    onEpoch?.({ ...e, epoch: (e.member - 1) * profile.epochs + e.epoch, epochs: e.members * profile.epochs }),
  );
  try {
    const cal = data.calibration ?? { x: data.x, rows, name: 'training' };
    const { scoring, scores } = calibrate(trained.networks, profile.score, cal.x, cal.rows, cal.name);
    const threshold = fitPolicy(opts.threshold ?? profile.threshold, scores, cal.name);
    const first = trained.members[0]!;
    const manifest = trainedManifest(opts, {
      started,
      seed,
      rows,
      preprocessor: data.preprocessor,
      architecture: arch,
      weightShapes: trained.networks.flatMap((n) => n.weightShapes),
      threshold,
      fit: { epochs: first.epochs, finalLoss: first.finalLoss, lossHistory: trained.lossHistory },
      adaptation: null,
      ensemble: { profile: { ...profile }, scoring, members: trained.members },
    });
    logger.info(
      {
        threshold: threshold.threshold,
        policy: threshold.describe(),
        members: trained.members.length,
        seconds: manifest.training.wallSeconds,
      },
      'detector trained',
    );
    return Detector.assemble(trained.networks, data.preprocessor, manifest);
  } catch (err) {
    for (const n of trained.networks) n.dispose();
    throw err;
  }
}

/**
 * `adaptDetector` for a profile's model: every member adapted alike (a copy each, the same support rows
 * and steps), the score's statistics refitted on the reference rows (median/MAD: robust to the few
 * anomalies a window may still hold), then the policy refitted on the reference scores.
 */
async function adaptProfileDetector(
  base: Detector,
  s: ModelRows,
  r: ModelRows,
  a: Required<AdaptOptions>,
  opts: AdaptDetectorOptions,
): Promise<Detector> {
  const logger = opts.logger ?? silentLogger;
  const ensemble = base.manifest.ensemble!;
  const networks = base.networks.map((n) => n.clone());
  try {
    let lossBefore = 0;
    let lossAfter = 0;
    for (const n of networks) {
      const res = await n.adapt(s.matrix, s.rows, a);
      lossBefore += res.lossBefore / networks.length;
      lossAfter += res.lossAfter / networks.length;
    }
    const referenceName = opts.reference ?? 'reference-window';
    const { scoring, scores: referenceScores } = calibrate(
      networks,
      ensemble.scoring.kind,
      r.matrix,
      r.rows,
      referenceName,
    );
    const threshold = adaptedPolicy(base, opts, referenceScores, referenceName);
    const adaptation: AdaptationStats = {
      ...opts.stats,
      supportRows: s.rows,
      steps: a.steps,
      learningRate: a.learningRate,
      lossBefore,
      lossAfter,
      policy: opts.policy ?? 'full-batch',
      thresholdInterval: thresholdInterval(referenceScores, threshold.threshold),
      members: networks.length,
      previousThreshold: base.policy.threshold,
    };
    const manifest = adaptedManifest(base, opts.pipeline, threshold, adaptation, {
      ensemble: { ...structuredClone(ensemble), scoring },
    });
    logger.info(
      { parentVersion: base.version, ...adaptation, threshold: threshold.threshold },
      'detector adapted',
    );
    return Detector.assemble(networks, base.preprocessor, manifest);
  } catch (err) {
    for (const n of networks) n.dispose();
    throw err;
  }
}

function calibrationFractionOf(opts: TrainDetectorOptions): number {
  const f = opts.calibrationFraction ?? (opts.threshold === undefined ? 0 : DEFAULT_CALIBRATION_FRACTION);
  if (!(f >= 0 && f < 1)) {
    throw new SmaeError('INVALID_CONFIG', `calibrationFraction must be within [0, 1), got ${f}`);
  }
  return f;
}

/**
 * A seeded share of the rows set apart for calibration (`calibrationSplit`, at least what `policy` needs);
 * null when the fraction is 0.
 */
function holdOutCalibration<T>(
  rows: readonly T[],
  fraction: number,
  seed: number,
  policy: PolicySpec | undefined,
): { fit: readonly T[]; calibration: T[] | null } {
  if (fraction === 0) return { fit: rows, calibration: null };
  const split = calibrationSplit(rows.length, fraction, seed, policy ? calibrationRowsFor(policy) : 0);
  return {
    fit: Array.from(split.fit, (i) => rows[i]!),
    calibration: Array.from(split.calibration, (i) => rows[i]!),
  };
}

/** The rows a detector is trained on, its fitted preprocessing, and the held-out calibration rows. */
interface PreparedRows {
  rows: readonly Record<string, unknown>[];
  preprocessor: Preprocessor;
  /** `rows` in model space. */
  x: Float32Array;
  /** The held-out rows in model space; null when none are held out (the policy then reads the training rows). */
  calibration: { x: Float32Array; rows: number; name: string } | null;
}

/**
 * Sets the calibration rows apart first (seeded), then fits the preprocessing on the rest (the spec
 * given, or inferred from those rows), so neither the preprocessing nor the networks see them.
 */
function prepareTrainingRows(
  all: readonly Record<string, unknown>[],
  opts: Pick<TrainDetectorOptions, 'spec'>,
  h: {
    fraction: number;
    seed: number;
    policy: PolicySpec | undefined;
    infer: InferFeatureSpecOptions | undefined;
  },
): PreparedRows {
  const split = holdOutCalibration(all, h.fraction, h.seed, h.policy);
  const rows = split.fit;
  const spec = opts.spec === undefined || opts.spec === 'infer' ? inferSpec(rows, h.infer) : opts.spec;
  const preprocessor = Preprocessor.fit(rows, spec);
  const cal = split.calibration;
  return {
    rows,
    preprocessor,
    x: preprocessor.transform(rows),
    calibration:
      cal === null
        ? null
        : { x: preprocessor.transform(cal), rows: cal.length, name: 'held-out calibration' },
  };
}

/** A newly trained model's manifest (no version yet: the registry numbers it). */
function trainedManifest(
  opts: TrainDetectorOptions,
  t: {
    started: number;
    seed: number;
    rows: number;
    preprocessor: Preprocessor;
    architecture: ModelManifest['architecture'];
    weightShapes: ModelManifest['weightShapes'];
    threshold: AnyPolicy;
    fit: { epochs: number; finalLoss: number; lossHistory: number[] };
    adaptation: AdaptationStats | null;
    ensemble?: ModelManifest['ensemble'];
  },
): ModelManifest {
  const f = { ...DEFAULT_FIT_OPTIONS, ...definedOnly(opts.fit ?? {}) };
  return {
    format: ARTIFACT_FORMAT,
    pipeline: opts.pipeline ?? null,
    version: null,
    parentVersion: null,
    createdAt: new Date().toISOString(),
    backend: activeBackend(),
    preprocessing: t.preprocessor.fitted,
    architecture: t.architecture,
    weightShapes: t.weightShapes,
    threshold: thresholdInfoOf(t.threshold),
    training: trainingStats(f, {
      rows: t.rows,
      epochs: t.fit.epochs,
      finalLoss: t.fit.finalLoss,
      lossHistory: t.fit.lossHistory,
      started: t.started,
      seed: t.seed,
      source: opts.source,
    }),
    adaptation: t.adaptation,
    ...(t.ensemble !== undefined ? { ensemble: t.ensemble } : {}),
  };
}

function inferSpec(
  rows: readonly Record<string, unknown>[],
  opts: InferFeatureSpecOptions | undefined,
): FeatureSpec {
  const sample = rows.slice(0, 1000);
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const r of sample) {
    for (const k of Object.keys(r)) {
      if (!seen.has(k)) {
        seen.add(k);
        columns.push(k);
      }
    }
  }
  return inferFeatureSpec(columns, sample, opts);
}

function isModelRows(input: RowsInput): input is ModelRows {
  return !Array.isArray(input) && typeof (input as ModelRows).rows === 'number';
}

function toModelRows(input: RowsInput, pre: Preprocessor, what: string): ModelRows {
  if (isModelRows(input)) {
    if (input.matrix.length < input.rows * pre.width) {
      throw new RangeError(
        `${what}: ${input.rows} rows of ${pre.width} columns need ${input.rows * pre.width} values`,
      );
    }
    return input;
  }
  const records = input as readonly Record<string, unknown>[];
  return { matrix: pre.transform(records), rows: records.length };
}

function prepareLenient(base: Detector, input: RowsInput): ModelRows & { rejected: number } {
  if (isModelRows(input)) return { ...toModelRows(input, base.preprocessor, 'rows'), rejected: 0 };
  const p = base.prepare(input as readonly Record<string, unknown>[]);
  return { matrix: p.matrix, rows: p.rows, rejected: p.errors.length };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** An adapted model's manifest: the parent's, with lineage, time, backend, the refitted threshold and the adaptation's record. */
function adaptedManifest(
  base: Detector,
  pipeline: string | null | undefined,
  threshold: AnyPolicy,
  adaptation: AdaptationStats,
  extra: Partial<ModelManifest> = {},
): ModelManifest {
  return {
    ...structuredClone(base.manifest),
    pipeline: pipeline !== undefined ? pipeline : base.manifest.pipeline,
    version: null,
    parentVersion: base.version,
    createdAt: new Date().toISOString(),
    backend: activeBackend(),
    threshold: thresholdInfoOf(threshold),
    adaptation,
    ...extra,
  };
}

/**
 * The manifest's training record: what was fitted and how (Keras' Adam: ε on the uncorrected √v), with the
 * wall time since `started`.
 */
function trainingStats(
  f: {
    batchSize: number;
    learningRate: number;
    beta1: number;
    beta2: number;
    epsilon: number;
    shuffle: boolean;
  },
  run: {
    rows: number;
    epochs: number;
    finalLoss: number;
    lossHistory: number[];
    started: number;
    seed: number;
    source: string;
  },
): TrainingStats {
  return {
    rows: run.rows,
    epochs: run.epochs,
    batchSize: f.batchSize,
    learningRate: f.learningRate,
    finalLoss: run.finalLoss,
    lossHistory: run.lossHistory,
    wallSeconds: (performance.now() - run.started) / 1000,
    seed: run.seed,
    source: run.source,
    optimizer: {
      name: 'adam',
      beta1: f.beta1,
      beta2: f.beta2,
      epsilon: f.epsilon,
      epsilonOn: 'uncorrected-sqrt-v',
    },
    shuffle: f.shuffle,
  };
}
