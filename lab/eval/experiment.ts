/**
 * The report's offline experiment, step by step (see `shared/seed/SUMMARY.md` and
 * `shared/data/REFERENCE.md`):
 *
 * 1. split the rows 70/30 (seeded, 42 as the report's `random_state`);
 * 2. fit the preprocessing (feature spec + scaler) on the training part only, and transform both parts
 *    into the model space: the model works in the scaled space;
 * 3. inject anomalies into the scaled test part (variant A or B, 15 % of rows) — or, with the file's
 *    own labels, inject nothing;
 * 4. train the sparse autoencoder on the training part (the run's seed fixes weights and shuffling);
 * 5. adapt it on 10 rows drawn from the (injected) test part, as the report does, unless disabled;
 * 6. threshold = the 95th percentile of the training rows' MSE, computed after adaptation — or, with a
 *    threshold policy (`threshold`), the policy fitted on calibration rows held out of the training part
 *    before training (`calibrationFraction`, seeded by the run's seed), after adaptation as well;
 * 7. metrics on the test part: macro F1/recall/precision, ROC-AUC of the MSE, confusion, flagged share.
 *
 * The split, the injection and the support rows are drawn exactly as the report's numpy code draws them
 * (`Rng` is numpy's legacy `RandomState`): the same test rows, injected rows, features and factors.
 * Steps 1–3 and the support draw depend only on the data and the split seed, so several training
 * seeds share one `PreparedExperiment` (`prepareExperiment` once, `runTrial` per seed).
 */
import { loadCsv } from '../../shared/data/csv.js';
import type { Logger } from '../../shared/log.js';
import { silentLogger } from '../../shared/log.js';
import { SmaeError } from '../../shared/errors.js';
import type { DataRow } from '../../shared/data/csv.js';
import type { FeatureSpec, ScalerKind } from '../../shared/preprocessing/spec.js';
import { inferFeatureSpec } from '../../shared/preprocessing/infer.js';
import { Preprocessor } from '../../shared/preprocessing/preprocessor.js';
import { activeBackend, architectureFor, SparseAutoencoder } from '../../shared/model/index.js';
import { injectAnomalies, type InjectionVariant } from '../../shared/anomalies/inject.js';
import { calibrationSplit, DEFAULT_CALIBRATION_FRACTION, takeRows } from '../../shared/threshold/holdout.js';
import {
  calibrationRowsFor,
  fitPolicy,
  type AnyPolicy,
  type PolicySpec,
} from '../../shared/threshold/policy.js';
import { calibrate, EnsembleScorer, trainEnsemble, type MemberInfo } from '../../shared/model/ensemble.js';
import type { ProfileName, ProfileSettings } from '../../shared/model/profile.js';
import { binaryMetrics, rocAuc, type BinaryMetrics } from './metrics.js';
import { Rng } from './rng.js';
import { take, trainTestSplit } from './split.js';

export type Protocol = { kind: 'inject'; variant: InjectionVariant } | { kind: 'labels' };

/** The data of one experiment: feature rows (label column already removed) and, maybe, labels. */
export interface ExperimentData {
  /** A name for reports, e.g. the file's base name. */
  dataset: string;
  /** Feature columns, in file order. */
  columns: string[];
  /** Those of `columns` that hold numbers (the others become one-hot categorical features). */
  numericColumns: string[];
  rows: readonly DataRow[];
  labels?: Uint8Array;
}

export interface PrepareOptions {
  protocol: Protocol;
  scale: ScalerKind;
  /** Seed of the split, the injection and the support draw (42, as the report). */
  splitSeed?: number;
  testFraction?: number;
  injectFraction?: number;
  supportRows?: number;
}

export interface PreparedExperiment {
  dataset: string;
  protocol: Protocol;
  scale: ScalerKind;
  splitSeed: number;
  preprocessor: Preprocessor;
  /** Model columns. */
  width: number;
  /** Model-column indices of numeric features (the injection's candidates). */
  numericModelColumns: number[];
  train: Float32Array;
  trainRows: number;
  test: Float32Array;
  testRows: number;
  testLabels: Uint8Array;
  /** Labels of the training rows (the labels protocol only; never used to fit, only to diagnose). */
  trainLabels: Uint8Array | null;
  /** Rows of `test` used as the adaptation support set, in draw order. */
  supportIndex: number[];
  support: Float32Array;
  injectedRows: number;
}

export interface TrialOptions {
  /** Seed of initial weights and shuffling. */
  seed: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** The report's rule: this percentile of the training rows' MSE (95), when no `threshold` is given. */
  percentile?: number;
  /** A threshold policy instead, fitted on calibration rows held out of the training part. */
  threshold?: PolicySpec;
  /** The share of the training part held out for `threshold` (0.2). */
  calibrationFraction?: number;
  /** The report's post-training adaptation on the support set (default true). */
  adapt?: boolean;
  adaptSteps?: number;
  adaptLearningRate?: number;
  onEpoch?: (e: { epoch: number; epochs: number; loss: number }) => void;
  logger?: Logger;
  /** Keep the trained network in the result (to save it as an artifact); the caller disposes it. */
  keepNetwork?: boolean;
  /**
   * The model profile (absent: `report`, the path above). Any other profile trains its ensemble on the
   * training part (calibration rows held out), scores with its score and thresholds at its percentile
   * of the calibration scores; it never adapts on test rows.
   */
  profile?: ProfileSettings;
}

export interface TrialResult extends BinaryMetrics {
  seed: number;
  rocAuc: number | null;
  threshold: number;
  /** The percentile, for a `percentile` policy. */
  percentile: number | null;
  /** The fitted threshold policy. */
  policy: AnyPolicy;
  /** Training rows the network was fitted on (the training part less any calibration rows). */
  fitRows: number;
  trainSeconds: number;
  epochs: number;
  finalLoss: number;
  lossHistory: number[];
  adaptation: {
    supportRows: number;
    steps: number;
    learningRate: number;
    lossBefore: number;
    lossAfter: number;
  } | null;
  backend: string;
  /** The profile that trained the model. */
  profile: ProfileName;
  /** Per-member figures (one entry for the report's single network). */
  members?: MemberInfo[];
  /** Present only with `keepNetwork`. */
  network?: SparseAutoencoder;
  /** Test-row scores (the score the profile thresholds). */
  testScores?: Float32Array;
  /** Calibration-row scores (profiles with calibration rows). */
  calibrationScores?: Float32Array;
}

export const EXPERIMENT_DEFAULTS = {
  splitSeed: 42,
  testFraction: 0.3,
  injectFraction: 0.15,
  supportRows: 10,
  epochs: 30,
  batchSize: 32,
  learningRate: 1e-3,
  percentile: 95,
  adaptSteps: 5,
  adaptLearningRate: 1e-3,
} as const;

/**
 * The feature spec for a table: numeric columns as numbers, the other columns one-hot — unless one has
 * so many distinct values in the training rows that it is an identifier or a timestamp rather than a
 * category, which is refused (`INVALID_CONFIG` naming it; leave it out with `--ignore`).
 */
export function featureSpecFor(
  data: Pick<ExperimentData, 'columns' | 'numericColumns'>,
  scale: ScalerKind,
  trainRows: readonly DataRow[] = [],
): FeatureSpec {
  return inferFeatureSpec(data.columns, trainRows, {
    scaler: scale,
    impute: 'error',
    numeric: data.numericColumns,
  });
}

export function prepareExperiment(data: ExperimentData, opts: PrepareOptions): PreparedExperiment {
  const splitSeed = opts.splitSeed ?? EXPERIMENT_DEFAULTS.splitSeed;
  const testFraction = opts.testFraction ?? EXPERIMENT_DEFAULTS.testFraction;
  const supportRows = opts.supportRows ?? EXPERIMENT_DEFAULTS.supportRows;
  if (opts.protocol.kind === 'labels' && !data.labels) {
    throw new SmaeError('BAD_LABEL_COLUMN', `${data.dataset} has no label column to evaluate against`);
  }
  if (data.rows.length < 4) {
    throw new SmaeError(
      'BAD_DATA_FILE',
      `${data.dataset} has ${data.rows.length} rows; an evaluation needs more`,
    );
  }

  const split = trainTestSplit(data.rows.length, testFraction, splitSeed);
  const trainRecords = take(data.rows, split.train);
  const testRecords = take(data.rows, split.test);

  const preprocessor = Preprocessor.fit(trainRecords, featureSpecFor(data, opts.scale, trainRecords));
  const width = preprocessor.width;
  const train = preprocessor.transform(trainRecords);
  const cleanTest = preprocessor.transform(testRecords);
  const numericNames = new Set(data.numericColumns);
  const numericModelColumns = preprocessor.fitted.columns
    .map((c, j) => (numericNames.has(c) ? j : -1))
    .filter((j) => j >= 0);

  const rng = new Rng(splitSeed);
  let test: Float32Array;
  let testLabels: Uint8Array;
  let injectedRows = 0;
  if (opts.protocol.kind === 'inject') {
    const inj = injectAnomalies(cleanTest, split.test.length, width, {
      variant: opts.protocol.variant,
      numericColumns: numericModelColumns,
      fraction: opts.injectFraction ?? EXPERIMENT_DEFAULTS.injectFraction,
      rng,
    });
    test = inj.matrix;
    testLabels = inj.labels;
    injectedRows = inj.injected.length;
  } else {
    test = cleanTest;
    testLabels = new Uint8Array(split.test.length);
    for (let i = 0; i < split.test.length; i++) testLabels[i] = data.labels![split.test[i]!]!;
  }

  // The report draws its support set from the injected test part with the same (continued) numpy
  // stream: Keras' weight init and shuffling use TensorFlow's generator, not numpy's.
  const supportIndex = rng.choice(split.test.length, Math.min(supportRows, split.test.length));
  const support = new Float32Array(supportIndex.length * width);
  supportIndex.forEach((r, i) => support.set(test.subarray(r * width, (r + 1) * width), i * width));

  return {
    dataset: data.dataset,
    protocol: opts.protocol,
    scale: opts.scale,
    splitSeed,
    preprocessor,
    width,
    numericModelColumns,
    train,
    trainRows: split.train.length,
    test,
    testRows: split.test.length,
    testLabels,
    trainLabels:
      opts.protocol.kind === 'labels' ? Uint8Array.from(split.train, (i) => data.labels![i]!) : null,
    supportIndex,
    support,
    injectedRows,
  };
}

/**
 * A labelled `<set>.csv` of `dir` (`SMAE_DATA_DIR`, else ../shared/data from the repository root) prepared as
 * `npm run bench:quality` prepares it: its `label` column, the labels protocol, min-max scaling.
 */
export async function prepareLabelledSet(
  set: string,
  opts: { dir?: string; splitSeed?: number } = {},
): Promise<PreparedExperiment> {
  const dir = opts.dir ?? process.env.SMAE_DATA_DIR ?? '../shared/data';
  const t = await loadCsv(`${dir}/${set}.csv`, { labelColumn: 'label' });
  return prepareExperiment(
    { dataset: set, columns: t.columns, numericColumns: t.numericColumns, rows: t.rows, labels: t.labels! },
    {
      protocol: { kind: 'labels' },
      scale: 'minmax',
      ...(opts.splitSeed !== undefined ? { splitSeed: opts.splitSeed } : {}),
    },
  );
}

export async function runTrial(prep: PreparedExperiment, opts: TrialOptions): Promise<TrialResult> {
  if (opts.profile !== undefined && opts.profile.name !== 'report')
    return runProfileTrial(prep, opts, opts.profile);
  const log = opts.logger ?? silentLogger;
  const epochs = opts.epochs ?? EXPERIMENT_DEFAULTS.epochs;
  const p = opts.percentile ?? EXPERIMENT_DEFAULTS.percentile;
  const adapt = opts.adapt ?? true;
  const steps = opts.adaptSteps ?? EXPERIMENT_DEFAULTS.adaptSteps;
  const adaptLr = opts.adaptLearningRate ?? EXPERIMENT_DEFAULTS.adaptLearningRate;

  const spec: PolicySpec = opts.threshold ?? { kind: 'percentile', params: { percentile: p } };
  const held =
    opts.threshold === undefined
      ? null
      : calibrationSplit(
          prep.trainRows,
          opts.calibrationFraction ?? DEFAULT_CALIBRATION_FRACTION,
          opts.seed,
          calibrationRowsFor(spec),
        );
  const fitMatrix = held === null ? prep.train : takeRows(prep.train, prep.width, held.fit);
  const fitRows = held === null ? prep.trainRows : held.fit.length;

  const net = SparseAutoencoder.create(architectureFor(prep.width), opts.seed);
  try {
    const started = performance.now();
    const fit = await net.fit(
      fitMatrix,
      fitRows,
      {
        epochs,
        batchSize: opts.batchSize ?? EXPERIMENT_DEFAULTS.batchSize,
        learningRate: opts.learningRate ?? EXPERIMENT_DEFAULTS.learningRate,
        seed: opts.seed,
        shuffle: true,
      },
      (e) => opts.onEpoch?.({ epoch: e.epoch, epochs, loss: e.loss }),
    );
    const trainSeconds = (performance.now() - started) / 1000;
    log.debug({ seed: opts.seed, trainSeconds, finalLoss: fit.finalLoss }, 'trained');

    let adaptation: TrialResult['adaptation'] = null;
    if (adapt && prep.supportIndex.length > 0) {
      const r = await net.adapt(prep.support, prep.supportIndex.length, { steps, learningRate: adaptLr });
      adaptation = { supportRows: prep.supportIndex.length, steps, learningRate: adaptLr, ...r };
    }

    const policy =
      held === null
        ? fitPolicy(spec, net.reconstructionErrors(prep.train, prep.trainRows).mse, 'training')
        : fitPolicy(
            spec,
            net.reconstructionErrors(
              takeRows(prep.train, prep.width, held.calibration),
              held.calibration.length,
            ).mse,
            'held-out calibration',
          );
    const testMse = net.reconstructionErrors(prep.test, prep.testRows).mse;
    const predicted = new Uint8Array(prep.testRows);
    for (let i = 0; i < prep.testRows; i++) predicted[i] = policy.classify(testMse[i]!).flagged ? 1 : 0;

    const result: TrialResult = {
      seed: opts.seed,
      ...binaryMetrics(prep.testLabels, predicted),
      rocAuc: rocAuc(prep.testLabels, testMse),
      threshold: policy.threshold,
      percentile: policy.kind === 'percentile' ? policy.params.percentile : null,
      policy,
      fitRows,
      trainSeconds,
      epochs,
      finalLoss: fit.finalLoss,
      lossHistory: fit.lossHistory,
      adaptation,
      backend: activeBackend(),
      profile: 'report',
      testScores: testMse,
    };
    if (opts.keepNetwork) result.network = net;
    return result;
  } finally {
    if (!opts.keepNetwork) net.dispose();
  }
}

async function runProfileTrial(
  prep: PreparedExperiment,
  opts: TrialOptions,
  profile: ProfileSettings,
): Promise<TrialResult> {
  const started = performance.now();
  const d = prep.width;
  const split = calibrationSplit(
    prep.trainRows,
    profile.calibrationFraction,
    opts.seed,
    calibrationRowsFor(profile.threshold),
  );
  const fitRows = takeRows(prep.train, d, split.fit);
  const calibration = takeRows(prep.train, d, split.calibration);
  const calRows = split.calibration.length;
  const trained = await trainEnsemble(
    architectureFor(d),
    fitRows,
    split.fit.length,
    profile,
    opts.seed,
    opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {},
    (e) => {
      const epochs = e.members * profile.epochs;
      opts.onEpoch?.({ epoch: (e.member - 1) * profile.epochs + e.epoch, epochs, loss: e.loss });
    },
  );
  try {
    const { scoring, scores: calibrationScores } =
      calRows > 0
        ? calibrate(trained.networks, profile.score, calibration, calRows, 'calibration')
        : calibrate(trained.networks, profile.score, fitRows, split.fit.length, 'training');
    const scorer = new EnsembleScorer(trained.networks, scoring);
    const policy = fitPolicy(profile.threshold, calibrationScores, calRows > 0 ? 'calibration' : 'training');
    const trainSeconds = (performance.now() - started) / 1000;
    const testScores = scorer.score(prep.test, prep.testRows).score;
    const predicted = new Uint8Array(prep.testRows);
    for (let i = 0; i < prep.testRows; i++) predicted[i] = policy.classify(testScores[i]!).flagged ? 1 : 0;
    const first = trained.members[0]!;
    return {
      seed: opts.seed,
      ...binaryMetrics(prep.testLabels, predicted),
      rocAuc: rocAuc(prep.testLabels, testScores),
      threshold: policy.threshold,
      percentile:
        profile.threshold.kind === 'percentile'
          ? (profile.threshold.params as { percentile: number }).percentile
          : null,
      policy,
      fitRows: split.fit.length,
      trainSeconds,
      epochs: first.epochs,
      finalLoss: first.finalLoss,
      lossHistory: [],
      adaptation: null,
      backend: activeBackend(),
      profile: profile.name,
      members: trained.members,
      testScores,
      calibrationScores,
    };
  } finally {
    for (const n of trained.networks) n.dispose();
  }
}

/** One experiment, one seed: `prepareExperiment` then `runTrial`. */
export async function runExperiment(
  data: ExperimentData,
  opts: PrepareOptions & TrialOptions,
): Promise<TrialResult & { prepared: PreparedExperiment }> {
  const prepared = prepareExperiment(data, opts);
  return { ...(await runTrial(prepared, opts)), prepared };
}
