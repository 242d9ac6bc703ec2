/**
 * Lab (not production): which scoring/training variants rank real anomalies well on the labelled sets.
 * npx tsx lab/quality-explore.ts [sets] ; env VARIANTS, SEEDS.
 */
import { loadCsv } from '../shared/data/csv.js';
import { trainTestSplit } from './eval/split.js';
import { rocAuc } from './eval/metrics.js';
import { initBackend, SparseAutoencoder, architectureFor } from '../shared/model/index.js';
import { fitRobustGaussian, whitener, mahalanobisInto, robustScale, median } from '../shared/model/robust.js';
import { createRng, shuffleInPlace } from '../shared/random.js';
import { writeFileSync } from 'node:fs';

const SETS = (process.argv[2] ?? 'thyroid,annthyroid,mammography,cardio,satimage2,pendigits,shuttle').split(
  ',',
);
const SEEDS = (process.env.SEEDS ?? '1,2,3').split(',').map(Number);
const K = Number(process.env.K ?? 5);
const SUB = Number(process.env.SUB ?? 0.5);
const EPOCHS = Number(process.env.EPOCHS ?? 20);
const SCALE = process.env.SCALE ?? 'robust';

function scaleFit(x: Float64Array, rows: number, d: number, kind: string) {
  const off: number[] = [],
    sc: number[] = [];
  for (let j = 0; j < d; j++) {
    const c = Array.from({ length: rows }, (_, i) => x[i * d + j]!).sort((a, b) => a - b);
    if (kind === 'minmax') {
      off.push(c[0]!);
      sc.push(c[rows - 1]! - c[0]! || 1);
    } else {
      const m = median(c);
      const iqr = c[Math.floor(0.75 * (rows - 1))]! - c[Math.floor(0.25 * (rows - 1))]!;
      let s = iqr / 1.349;
      if (!(s > 1e-9)) {
        let mu = 0;
        for (const v of c) mu += v;
        mu /= rows;
        let ss = 0;
        for (const v of c) ss += (v - mu) ** 2;
        s = Math.sqrt(ss / rows) || 1;
      }
      off.push(m);
      sc.push(s);
    }
  }
  return (m: Float64Array, r: number) => {
    const o = new Float32Array(r * d);
    for (let i = 0; i < r; i++) for (let j = 0; j < d; j++) o[i * d + j] = (m[i * d + j]! - off[j]!) / sc[j]!;
    return o;
  };
}

function sub(x: Float32Array, d: number, idx: ArrayLike<number>) {
  const o = new Float32Array(idx.length * d);
  for (let i = 0; i < idx.length; i++) o.set(x.subarray(idx[i]! * d, idx[i]! * d + d), i * d);
  return o;
}
function resid(net: SparseAutoencoder, x: Float32Array, rows: number, d: number) {
  const r = net.reconstructionErrors(x, rows, { perFeature: true });
  const o = new Float64Array(rows * d);
  for (let k = 0; k < rows * d; k++) o[k] = x[k]! - r.reconstruction![k]!;
  return o;
}

function scoresFrom(res: Float64Array, rows: number, d: number, cal: Float64Array, calRows: number) {
  const mse = new Float64Array(rows),
    madS = new Float64Array(rows),
    mah = new Float64Array(rows);
  const rs = robustScale(cal, calRows, d);
  for (let i = 0; i < rows; i++) {
    let a = 0,
      b = 0;
    for (let j = 0; j < d; j++) {
      const v = res[i * d + j]!;
      a += v * v;
      b += ((v - rs.center[j]!) / rs.spread[j]!) ** 2;
    }
    mse[i] = a / d;
    madS[i] = b / d;
  }
  const g = fitRobustGaussian(cal, calRows, d);
  const w = whitener(g.covariance, d);
  mahalanobisInto(res, rows, d, g.mean, w, mah);
  return { mse, mad: madS, mah };
}
function norm(s: Float64Array, cal: Float64Array) {
  const m = median(cal);
  const c = Float64Array.from(cal).sort();
  const q = c[Math.floor(0.9 * (c.length - 1))]! - m || 1;
  return s.map((v) => (v - m) / q);
}

await initBackend({ prefer: 'cpu' });
const out: Record<string, unknown>[] = [];
for (const set of SETS) {
  const t = await loadCsv(`../shared/data/${set}.csv`, { labelColumn: 'label' });
  const d = t.columns.length;
  const n = t.rows.length;
  const all = new Float64Array(n * d);
  t.rows.forEach((r, i) =>
    t.columns.forEach((c, j) => {
      all[i * d + j] = r[c] as number;
    }),
  );
  const sp = trainTestSplit(n, 0.3, 42);
  const trRaw = new Float64Array(sp.train.length * d),
    teRaw = new Float64Array(sp.test.length * d);
  sp.train.forEach((r, i) => trRaw.set(all.subarray(r * d, r * d + d), i * d));
  sp.test.forEach((r, i) => teRaw.set(all.subarray(r * d, r * d + d), i * d));
  const yte = Uint8Array.from(sp.test, (r) => t.labels![r]!);
  const f = scaleFit(trRaw, sp.train.length, d, SCALE);
  const tr = f(trRaw, sp.train.length);
  const te = f(teRaw, sp.test.length);
  const ntr = sp.train.length,
    nte = sp.test.length;
  // baseline: robust mahalanobis on inputs
  const inMahTe = new Float64Array(nte);
  const gIn = fitRobustGaussian(tr, ntr, d);
  const wIn = whitener(gIn.covariance, d);
  {
    mahalanobisInto(te, nte, d, gIn.mean, wIn, inMahTe);
    console.log(set, 'inputMahalanobis', rocAuc(yte, inMahTe)!.toFixed(4));
  }
  for (const seed of SEEDS) {
    const t0 = process.cpuUsage();
    const rng = createRng(seed, 7);
    const order = Uint32Array.from({ length: ntr }, (_, i) => i);
    shuffleInPlace(order as unknown as Int32Array, rng);
    const nCal = Math.floor(0.2 * ntr);
    const calIdx = order.subarray(0, nCal);
    const fitIdx = order.subarray(nCal);
    const cal = sub(tr, d, calIdx);
    const comb: Record<string, Float64Array> = {};
    const single: Record<string, number> = {};
    for (let k = 0; k < K; k++) {
      const o2 = Uint32Array.from(fitIdx);
      shuffleInPlace(o2 as unknown as Int32Array, createRng(seed * 100 + k, 9));
      const m = Math.max(Math.min(o2.length, 256), Math.floor(SUB * o2.length));
      const xs = sub(tr, d, o2.subarray(0, m));
      const net = SparseAutoencoder.create(architectureFor(d), seed * 1000 + k);
      await net.fit(xs, m, { epochs: EPOCHS, seed: seed * 1000 + k });
      const rc = resid(net, cal, nCal, d);
      const rt = resid(net, te, nte, d);
      const sc = scoresFrom(rc, nCal, d, rc, nCal);
      const st = scoresFrom(rt, nte, d, rc, nCal);
      for (const kind of ['mse', 'mad', 'mah'] as const) {
        if (k === 0) single[kind] = rocAuc(yte, st[kind])!;
        const z = norm(st[kind], sc[kind]);
        comb[kind] ??= new Float64Array(nte);
        for (let i = 0; i < nte; i++) comb[kind]![i]! += z[i]! / K;
      }
      net.dispose();
    }
    const inCal = new Float64Array(nCal);
    mahalanobisInto(cal, nCal, d, gIn.mean, wIn, inCal);
    const zin = norm(inMahTe, inCal);
    for (const kind of ['mse', 'mad', 'mah']) {
      const h = new Float64Array(nte);
      for (let i = 0; i < nte; i++) h[i] = (comb[kind]![i]! + zin[i]!) / 2;
      comb['hyb_' + kind] = h;
    }
    const cpu = process.cpuUsage(t0);
    const secs = (cpu.user + cpu.system) / 1e6;
    const row = {
      set,
      seed,
      single,
      ens: Object.fromEntries(Object.entries(comb).map(([k, v]) => [k, rocAuc(yte, v)])),
      secs,
    };
    out.push(row);
    console.log(JSON.stringify(row));
  }
}
writeFileSync(`/tmp/lab-${process.env.TAG ?? 'x'}.json`, JSON.stringify(out));
