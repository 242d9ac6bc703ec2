/**
 * An ensemble of networks of the report's architecture and the score the detector actually uses.
 *
 * Training (`trainEnsemble`): the training rows are split once (seeded) into fitting rows and, when the
 * profile asks for it, held-out calibration rows that no network is fitted on. Each member gets its own
 * seed and a random `subsample` share of the fitting rows; the fitting rows it does not train on are its
 * validation rows for early stopping (at most 4,096 of them).
 *
 * Scoring (`EnsembleScorer.score`), one reconstruction per member per batch (plain loops on the cpu backend,
 * one tensor elsewhere: `SparseAutoencoder.reconstructRows`):
 * - `mse` (the report): the row's mean squared reconstruction error (a single member);
 * - `robust-residual`: per member, residuals r = x − x̂ in units of their per-feature median and spread
 *   on the calibration rows (MAD; the standard deviation for two-valued columns such as one-hot slots;
 *   see `residualSpreads`), z = (r − median) / spread, the row's mean z²; that member score is put on
 *   a common scale by its own median and (90th percentile − median) on the calibration rows, and the
 *   members' normalised scores are averaged. One noisy column cannot dominate (its residuals are in its
 *   own units) and a member with a larger error scale does not outvote the others.
 * - `robust-tail` (the default profile's): per member, the average of that normalised mean z² and the
 *   row's mean tail rarity −log P(|z| ≥ |zⱼ|) over features (`tail.ts`), normalised the same way. z²
 *   keeps a residual many spreads off on one feature loud (what sets annthyroid's anomalies apart); the
 *   rarity keeps a feature whose spread collapses (mostly one value, sometimes far off: image pixels)
 *   from deciding ordinary rows' scores (docs/RESULTS.md, "The tail rarity").
 * Explanations follow that score: a feature's term is its share of the member's normalised score (its
 * z² over the score scale, or for `robust-tail` the average of that and its rarity over the rarity's
 * scale; squared error for `mse`), averaged over members; its share is its term over the row's total.
 */
import { SmaeError } from '../errors.js';
import type { Architecture } from './artifact.js';
import { SparseAutoencoder, type EpochProgress, type FitOptions } from './autoencoder.js';
import type { ProfileSettings, ScoreKind } from './profile.js';
import { createRng, shuffleInPlace } from '../random.js';
import { column, MAD_TO_SD, median, robustScale, standardDeviation } from './robust.js';
import { takeRows } from '../threshold/holdout.js';
import { fitTails, TailTable, type TailStats } from './tail.js';

/** Per-member statistics of the robust score, fitted on the calibration rows. */
export interface MemberScoring {
  /** Per-feature median of the residuals. */
  center: number[];
  /** Per-feature spread of the residuals (1.4826·MAD, see `robustScale`). */
  spread: number[];
  /** Median of the member's raw score on the calibration rows. */
  scoreCenter: number;
  /** 90th percentile − median of the member's raw score on the calibration rows (> 0). */
  scoreScale: number;
  /** `robust-tail` only: the features' tail rarity and the raw rarity score's median and scale. */
  tail?: { stats: TailStats; scoreCenter: number; scoreScale: number };
}

export interface ScoringInfo {
  kind: ScoreKind;
  /** One entry per member for `robust-residual`; empty for `mse`. */
  members: MemberScoring[];
  /** Rows the statistics were fitted on, and which rows they were. */
  calibrationRows: number;
  reference: string;
}

export interface MemberInfo {
  seed: number;
  rows: number;
  epochs: number;
  finalLoss: number;
  bestEpoch: number | null;
  revivedUnits: number;
}

/** The profile, scoring and members of a detector, as its manifest records them (under the digest). */
export interface EnsembleManifest {
  profile: ProfileSettings;
  scoring: ScoringInfo;
  members: MemberInfo[];
}

export interface EnsembleScores {
  /** The score the detector thresholds, per row. */
  score: Float32Array;
  /** Per-row, per-feature terms of that score, row-major (only with `perFeature`). */
  terms?: Float32Array;
  /** The members' mean reconstruction in model space, row-major (only with `perFeature`). */
  reconstruction?: Float32Array;
}

export class EnsembleScorer {
  /** Per member, its tail statistics laid out for scoring (`robust-tail`). */
  private readonly tails: (TailTable | undefined)[];

  constructor(
    readonly networks: readonly SparseAutoencoder[],
    readonly scoring: ScoringInfo,
  ) {
    if (networks.length === 0) throw new SmaeError('INCOMPATIBLE_MODEL', 'an ensemble needs a network');
    if (scoring.kind !== 'mse' && scoring.members.length !== networks.length) {
      throw new SmaeError(
        'INCOMPATIBLE_MODEL',
        `robust scoring has statistics for ${scoring.members.length} members, the model has ${networks.length}`,
      );
    }
    if (scoring.kind === 'robust-tail' && scoring.members.some((m) => m.tail === undefined)) {
      throw new SmaeError(
        'INCOMPATIBLE_MODEL',
        'the robust-tail score needs tail statistics for every member',
      );
    }
    this.tails = scoring.members.map((m) => (m.tail ? new TailTable(m.tail.stats) : undefined));
    if (scoring.kind === 'mse' && networks.length !== 1) {
      throw new SmaeError('INCOMPATIBLE_MODEL', 'the mse score takes exactly one network');
    }
  }

  get inputDim(): number {
    return this.networks[0]!.inputDim;
  }

  score(x: Float32Array, rows: number, opts: { perFeature?: boolean } = {}): EnsembleScores {
    const d = this.inputDim;
    const perFeature = opts.perFeature === true;
    if (this.scoring.kind === 'mse') {
      const e = this.networks[0]!.reconstructionErrors(x, rows, { perFeature });
      return {
        score: e.mse,
        ...(perFeature ? { terms: e.squaredErrors!, reconstruction: e.reconstruction! } : {}),
      };
    }
    const out: EnsembleScores = { score: new Float32Array(rows) };
    if (perFeature) {
      out.terms = new Float32Array(rows * d);
      out.reconstruction = new Float32Array(rows * d);
    }
    this.networks.forEach((net, m) => {
      addMemberScores(
        out,
        x,
        net.reconstructRows(x, rows),
        rows,
        d,
        this.scoring.members[m]!,
        this.networks.length,
        this.tails[m],
      );
    });
    return out;
  }
}

/**
 * Adds one member's share to the scores: `(mean z² − scoreCenter) / scoreScale / k` per row, with
 * `z = (residual − center) / spread` per feature, and its z²/(d·scoreScale·k) and reconstruction/k to the
 * per-feature terms and the mean reconstruction. Float32 rounding after each step, as the tfjs ops this
 * replaced (sub, div, square, sum, add) stored their results, so scores do not depend on the path.
 * With tail statistics (`robust-tail`), the average of that and the same for the tail rarity.
 */
function addMemberScores(
  out: EnsembleScores,
  x: Float32Array,
  xHat: Float32Array,
  rows: number,
  d: number,
  s: MemberScoring,
  k: number,
  tail?: TailTable,
): void {
  if (tail) {
    addTailMemberScores(out, x, xHat, rows, d, s, k, tail);
    return;
  }
  const center = Float32Array.from(s.center);
  const spread = Float32Array.from(s.spread);
  const divisor = Math.fround(d * s.scoreScale * k);
  const shift = Math.fround(s.scoreCenter / (s.scoreScale * k));
  const fk = Math.fround(k);
  const { score, terms, reconstruction } = out;
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let j = 0; j < d; j++) {
      const at = i * d + j;
      const residual = Math.fround(x[at]! - xHat[at]!);
      const z = Math.fround(Math.fround(residual - center[j]!) / spread[j]!);
      const z2 = Math.fround(Math.fround(z * z) / divisor);
      sum += z2;
      if (terms) terms[at] = Math.fround(terms[at]! + z2);
      if (reconstruction) reconstruction[at] = Math.fround(reconstruction[at]! + Math.fround(xHat[at]! / fk));
    }
    score[i] = Math.fround(score[i]! + Math.fround(Math.fround(sum) - shift));
  }
}

/**
 * `addMemberScores` for `robust-tail`: per row, ((mean z² − c₁)/s₁ + (mean rarity − c₂)/s₂) / (2k), and
 * each feature's (z²/s₁ + rarity/s₂) / (2dk) as its term (float64, rounded to float32 when stored).
 */
function addTailMemberScores(
  out: EnsembleScores,
  x: Float32Array,
  xHat: Float32Array,
  rows: number,
  d: number,
  s: MemberScoring,
  k: number,
  table: TailTable,
): void {
  const tail = s.tail!;
  const wz = 1 / (2 * d * k * s.scoreScale);
  const wt = 1 / (2 * d * k * tail.scoreScale);
  const shift = (s.scoreCenter / s.scoreScale + tail.scoreCenter / tail.scoreScale) / (2 * k);
  const { score, terms, reconstruction } = out;
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let j = 0; j < d; j++) {
      const at = i * d + j;
      const z = (x[at]! - xHat[at]! - s.center[j]!) / s.spread[j]!;
      const term = z * z * wz + table.rarity(j, Math.abs(z)) * wt;
      sum += term;
      if (terms) terms[at] = Math.fround(terms[at]! + term);
      if (reconstruction) reconstruction[at] = Math.fround(reconstruction[at]! + xHat[at]! / k);
    }
    score[i] = Math.fround(score[i]! + sum - shift);
  }
}

/**
 * A threshold in the units of the report's score, the mean squared residual, so thresholds of models whose
 * score statistics were fitted on different rows can be compared (the adapter's threshold guardrails).
 * The robust score is normalised per member by statistics refitted at every adaptation: its threshold
 * stays near the same number while what it takes to cross it changes. For each member, the raw score at
 * the threshold is `scoreCenter + threshold × scoreScale` (a mean z²); a residual of z spreads on every
 * feature has a mean square of z² × mean(spread²); averaged over members. For `robust-tail` the same, as
 * if the z² half carried the whole score (a comparison between models' thresholds, not an exact
 * inverse). For the `mse` score it is the threshold itself.
 */
export function thresholdInResidualUnits(threshold: number, scoring: ScoringInfo | undefined): number {
  if (scoring === undefined || scoring.kind === 'mse' || scoring.members.length === 0) return threshold;
  let sum = 0;
  for (const m of scoring.members) {
    const meanSquare = m.spread.reduce((a, s) => a + s * s, 0) / m.spread.length;
    sum += (m.scoreCenter + threshold * m.scoreScale) * meanSquare;
  }
  return sum / scoring.members.length;
}

/**
 * What a column's input takes on the calibration rows: one value (a one-hot slot no row uses, such as a
 * category's `<unknown>`, or a constant column), two (a one-hot slot, a flag) or more.
 */
export type ColumnLevels = 'constant' | 'binary' | 'continuous';

/** The `ColumnLevels` of each column of a row-major `rows × d` matrix. */
export function columnLevels(x: ArrayLike<number>, rows: number, d: number): ColumnLevels[] {
  const out: ColumnLevels[] = [];
  for (let j = 0; j < d; j++) {
    const first = x[j];
    let second: number | undefined;
    let level: ColumnLevels = 'constant';
    for (let i = 1; i < rows && level !== 'continuous'; i++) {
      const v = x[i * d + j]!;
      if (v === first || v === second) continue;
      if (second === undefined) {
        second = v;
        level = 'binary';
      } else level = 'continuous';
    }
    out.push(level);
  }
  return out;
}

/**
 * The residual spread of each column, by what its input takes (`levels`; all `continuous` when absent):
 * - continuous: 1.4826·MAD, which a few wild residuals (anomalies among the calibration rows) cannot move;
 * - binary: the standard deviation. A network reconstructs a one-hot slot or a flag almost exactly on
 *   most rows and confuses it on some (residuals near 0 or near ±1): the MAD sees only the first mode,
 *   and every confused row would be dozens of spreads off, so the slot would decide ordinary rows' scores;
 * - constant: the median spread of the other columns. The network reproduces such a column almost
 *   exactly, so any ordinary wobble would be hundreds of its own spreads; with the median a value there
 *   (an unknown category is a deviation of about one unit of input) counts in units of a typical
 *   feature's noise.
 */
export function residualSpreads(
  residuals: Float64Array,
  rows: number,
  d: number,
  levels: readonly ColumnLevels[] = [],
): { center: number[]; spread: number[] } {
  const { center, spread } = robustScale(residuals, rows, d);
  for (let j = 0; j < d; j++) {
    if (levels[j] === 'binary')
      spread[j] = Math.max(spread[j]!, standardDeviation(column(residuals, rows, d, j)));
  }
  const others = spread.filter((_, j) => levels[j] !== 'constant');
  const typical = others.length > 0 ? median(others) : Number.NaN;
  for (let j = 0; j < d; j++) {
    if (levels[j] === 'constant' && spread[j]! < typical) spread[j] = typical;
  }
  return { center, spread };
}

/**
 * The statistics of the robust score of one member from its residuals on calibration rows (pure):
 * per-feature median and spread (`residualSpreads`), then the median and (p90 − median) of the resulting raw scores.
 */
export function fitMemberScoring(
  residuals: Float64Array,
  rows: number,
  d: number,
  levels: readonly ColumnLevels[] = [],
  kind: Exclude<ScoreKind, 'mse'> = 'robust-residual',
): MemberScoring {
  if (rows < 2) throw new SmaeError('INVALID_CONFIG', 'the robust score needs at least 2 calibration rows');
  const { center, spread } = residualSpreads(residuals, rows, d, levels);
  const absZ = new Float64Array(rows * d);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < d; j++) absZ[i * d + j] = Math.abs((residuals[i * d + j]! - center[j]!) / spread[j]!);
  }
  const z2 = centerAndScale(rowMeans(absZ, rows, d, (v) => v * v));
  if (kind === 'robust-residual') return { center, spread, ...z2 };
  const stats = fitTails(absZ, rows, d);
  const table = new TailTable(stats);
  const rarity = centerAndScale(rowMeans(absZ, rows, d, (v, j) => table.rarity(j, v)));
  return { center, spread, ...z2, tail: { stats, ...rarity } };
}

/** Each row's mean of `term` over its features. */
function rowMeans(
  values: Float64Array,
  rows: number,
  d: number,
  term: (v: number, j: number) => number,
): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let j = 0; j < d; j++) sum += term(values[i * d + j]!, j);
    out[i] = sum / d;
  }
  return out;
}

/** A raw member score's median and (90th percentile − median), kept positive. */
function centerAndScale(raw: Float64Array): { scoreCenter: number; scoreScale: number } {
  const scoreCenter = median(raw);
  const sorted = Float64Array.from(raw).sort();
  const p90 = sorted[Math.floor(0.9 * (raw.length - 1))]!;
  let scoreScale = p90 - scoreCenter;
  if (!(scoreScale > 1e-12)) scoreScale = Math.max(MAD_TO_SD * 1e-6, Math.abs(scoreCenter), 1e-12);
  return { scoreCenter, scoreScale };
}

/** Residuals x − x̂ in float64, from a matrix and its reconstruction. */
function residualsFrom(x: Float32Array, xHat: Float32Array): Float64Array {
  const r = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) r[k] = x[k]! - xHat[k]!;
  return r;
}

/** Residuals x − x̂ of a network on a matrix, in float64. */
export function residualsOf(net: SparseAutoencoder, x: Float32Array, rows: number): Float64Array {
  return residualsFrom(x.subarray(0, rows * net.inputDim), net.reconstructRows(x, rows));
}

/**
 * Scoring statistics for `networks` on calibration rows (model space); `reconstructions`, each network's
 * reconstruction of those rows, when the caller already has them.
 */
export function fitScoring(
  networks: readonly SparseAutoencoder[],
  kind: ScoreKind,
  calibration: Float32Array,
  rows: number,
  reference: string,
  reconstructions?: readonly Float32Array[],
): ScoringInfo {
  if (kind === 'mse') return { kind, members: [], calibrationRows: rows, reference };
  const d = networks[0]!.inputDim;
  const x = calibration.subarray(0, rows * d);
  const levels = columnLevels(x, rows, d);
  return {
    kind,
    members: networks.map((net, m) => {
      const residuals = residualsFrom(x, reconstructions?.[m] ?? net.reconstructRows(x, rows));
      return fitMemberScoring(residuals, rows, d, levels, kind);
    }),
    calibrationRows: rows,
    reference,
  };
}

/** Folds of the cross-fitted calibration scores (`calibrate`). */
export const CALIBRATION_FOLDS = 5;

/**
 * The scoring statistics fitted on all `rows` calibration rows, and those rows' scores for the threshold
 * policy, **cross-fitted**: each row scored with statistics fitted on the other folds (row i in fold
 * i mod `CALIBRATION_FOLDS`). A row scored by statistics that include it is never far out on them (its
 * tail rarity is capped at that of the largest calibration residual, and it pulls the spread it is
 * measured in), so in-sample scores sit lower than a new row's, the threshold read from them sits low,
 * and the false-positive rate runs over its target, the more so the fewer the rows. Cross-fitted scores are
 * exchangeable with new rows' (each is scored by statistics that never saw it, from 4/5 as many rows);
 * the detector then scores with the statistics of all rows. `mse` has no statistics: plain scores.
 */
export function calibrate(
  networks: readonly SparseAutoencoder[],
  kind: ScoreKind,
  x: Float32Array,
  rows: number,
  reference: string,
): { scoring: ScoringInfo; scores: Float32Array } {
  const folds = Math.min(CALIBRATION_FOLDS, rows);
  if (kind === 'mse' || folds < 2) {
    const scoring = fitScoring(networks, kind, x, rows, reference);
    return { scoring, scores: new EnsembleScorer(networks, scoring).score(x, rows).score };
  }
  const d = networks[0]!.inputDim;
  const reconstructions = networks.map((net) => net.reconstructRows(x, rows));
  const scoring = fitScoring(networks, kind, x, rows, reference, reconstructions);
  const scores = new Float32Array(rows);
  for (let f = 0; f < folds; f++) {
    const held: number[] = [];
    const rest: number[] = [];
    for (let i = 0; i < rows; i++) (i % folds === f ? held : rest).push(i);
    const restX = takeRows(x, d, rest);
    const heldX = takeRows(x, d, held);
    const levels = columnLevels(restX, rest.length, d);
    const out: EnsembleScores = { score: new Float32Array(held.length) };
    for (const xHat of reconstructions) {
      const residuals = residualsFrom(restX, takeRows(xHat, d, rest));
      const member = fitMemberScoring(residuals, rest.length, d, levels, kind);
      const table = member.tail ? new TailTable(member.tail.stats) : undefined;
      addMemberScores(out, heldX, takeRows(xHat, d, held), held.length, d, member, networks.length, table);
    }
    held.forEach((i, j) => (scores[i] = out.score[j]!));
  }
  return { scoring, scores };
}

/** Member `m`'s seed: member 0 uses `seed` itself (so a one-member profile is the report's network). */
export function memberSeedOf(seed: number, m: number): number {
  return m === 0 ? seed : (seed + Math.imul(m, 0x9e3779b1)) >>> 0;
}

/**
 * The fitting rows a member trains on with `subsample` < 1: a seeded draw of ⌊subsample · rows⌋ of them
 * (at least 256, or all), ascending; `rest`, the others in draw order (its early-stopping rows).
 */
export function memberSubsample(
  rows: number,
  subsample: number,
  memberSeed: number,
): { fit: Int32Array; rest: Int32Array } {
  const order = Int32Array.from({ length: rows }, (_, i) => i);
  shuffleInPlace(order, createRng(memberSeed, 12));
  const used = Math.min(rows, Math.max(Math.min(256, rows), Math.floor(subsample * rows)));
  return { fit: order.slice(0, used).sort(), rest: order.subarray(used) };
}

export interface TrainEnsembleResult {
  networks: SparseAutoencoder[];
  members: MemberInfo[];
  /** The first member's loss per epoch (for a one-member profile, the network's). */
  lossHistory: number[];
}

export interface EnsembleProgress extends EpochProgress {
  /** 1-based member number, and how many there are. */
  member: number;
  members: number;
}

/**
 * Trains the members of a profile on `rows` model-space fitting rows (calibration rows, if any, are held
 * out by the caller before this). `seed` fixes the subsamples and every member's weights and shuffling;
 * member 1 uses `seed` itself, so a one-member profile on all rows is the report's single network.
 */
export async function trainEnsemble(
  arch: Architecture,
  x: Float32Array,
  rows: number,
  profile: ProfileSettings,
  seed: number,
  fit: Omit<FitOptions, 'seed' | 'epochs' | 'validation' | 'patience'> = {},
  onEpoch?: (e: EnsembleProgress) => void,
): Promise<TrainEnsembleResult> {
  const d = arch.inputDim;
  if (rows < 2) throw new SmaeError('INVALID_CONFIG', `${rows} training rows are too few`);
  const networks: SparseAutoencoder[] = [];
  const members: MemberInfo[] = [];
  let lossHistory: number[] = [];
  try {
    for (let m = 0; m < profile.members; m++) {
      const memberSeed = memberSeedOf(seed, m);
      let xs = x.subarray(0, rows * d);
      let used = rows;
      let validation: { matrix: Float32Array; rows: number } | undefined;
      if (profile.subsample < 1) {
        const sample = memberSubsample(rows, profile.subsample, memberSeed);
        used = sample.fit.length;
        xs = takeRows(x, d, sample.fit);
        const rest = sample.rest.subarray(0, 4096);
        if (profile.patience !== null && rest.length > 0) {
          validation = { matrix: takeRows(x, d, rest), rows: rest.length };
        }
      }
      const net = SparseAutoencoder.create(arch, memberSeed);
      networks.push(net);
      const r = await net.fit(
        xs,
        used,
        {
          ...fit,
          seed: memberSeed,
          epochs: profile.epochs,
          trimFraction: profile.trimFraction,
          reviveDeadUnits: profile.reviveDeadUnits,
          ...(validation && profile.patience !== null ? { validation, patience: profile.patience } : {}),
        },
        (e) => onEpoch?.({ ...e, member: m + 1, members: profile.members }),
      );
      if (m === 0) lossHistory = r.lossHistory;
      members.push({
        seed: memberSeed,
        rows: used,
        epochs: r.epochs,
        finalLoss: r.finalLoss,
        bestEpoch: r.bestEpoch ?? null,
        revivedUnits: r.revivedUnits ?? 0,
      });
    }
  } catch (err) {
    for (const n of networks) n.dispose();
    throw err;
  }
  return { networks, members, lossHistory };
}
