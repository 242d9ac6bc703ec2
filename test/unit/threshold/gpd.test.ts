import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fitGpd, gpdExcessQuantile, gpdLogLikelihood, gpdSurvival } from '../../../shared/threshold/gpd.js';
import { exponential, pareto } from './samples.js';

// scipy 1.17.1: genpareto.fit(y, floc=0) → c=0.3897081105887529, scale=0.6341238608194151, and a
// Nelder–Mead refinement of the same likelihood (xatol 1e-12) → c=0.38967479, scale=0.63417032,
// log-likelihood −14.013555792579934.
const SMALL = [0.12, 0.5, 0.03, 1.7, 0.9, 0.33, 2.8, 0.07, 0.61, 1.15, 0.2, 4.9, 0.44, 0.08, 0.95];

describe('GPD', () => {
  test("Grimshaw's maximum likelihood matches scipy's optimum on a small sample", () => {
    const fit = fitGpd(SMALL);
    assert.equal(fit.estimator, 'grimshaw-mle');
    assert.ok(Math.abs(fit.shape - 0.38967479) < 1e-5, `shape ${fit.shape}`);
    assert.ok(Math.abs(fit.scale - 0.63417032) < 1e-5, `scale ${fit.scale}`);
    assert.ok(Math.abs(fit.logLikelihood - -14.013555792579934) < 1e-9);
  });

  test('the fit is a local maximum of the likelihood', () => {
    const y = pareto(2000, 2, 7).map((x) => x - 1);
    const fit = fitGpd(y);
    for (const [ds, dk] of [
      [0.01, 0],
      [-0.01, 0],
      [0, 0.01],
      [0, -0.01],
    ] as const) {
      assert.ok(gpdLogLikelihood(y, fit.shape + ds, fit.scale * (1 + dk)) <= fit.logLikelihood);
    }
  });

  test('recovers ξ = 1/α from Pareto excesses and ξ ≈ 0 from exponential ones', () => {
    const p = fitGpd(pareto(20_000, 4, 3).map((x) => x - 1));
    assert.ok(Math.abs(p.shape - 0.25) < 0.03, `pareto shape ${p.shape}`);
    const e = fitGpd(exponential(20_000, 3));
    assert.ok(Math.abs(e.shape) < 0.03, `exponential shape ${e.shape}`);
    assert.ok(Math.abs(e.scale - 1) < 0.05, `exponential scale ${e.scale}`);
  });

  test('survival and excess quantile are inverse, for ξ < 0, ξ = 0 and ξ > 0', () => {
    for (const shape of [-0.4, 0, 0.3]) {
      for (const r of [0.5, 0.1, 1e-4]) {
        const y = gpdExcessQuantile(r, shape, 2);
        assert.ok(Math.abs(gpdSurvival(y, shape, 2) / r - 1) < 1e-12, `ξ=${shape} r=${r}`);
      }
    }
    assert.equal(gpdSurvival(10, -0.5, 1), 0, 'beyond the end of a bounded tail');
  });

  test('refuses too few or non-positive excesses', () => {
    assert.throws(() => fitGpd([1]), RangeError);
    assert.throws(() => fitGpd([1, 0, 2]), RangeError);
  });
});
