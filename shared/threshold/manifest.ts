/**
 * A model manifest's threshold (`ThresholdInfo`) and the fitted policy it holds, both ways. Manifests
 * written before threshold policies carry only `{ value, percentile, reference, referenceRows }`; they
 * read as the `percentile` policy they were, so every stored model keeps working.
 */
import { ModelError } from '../errors.js';
import type { ThresholdInfo } from '../model/artifact.js';
import { restorePolicy, type AnyPolicy } from './policy.js';

/** The manifest's threshold for a fitted policy. */
export function thresholdInfoOf(policy: AnyPolicy): ThresholdInfo {
  const s = policy.state;
  return {
    value: s.threshold,
    ...(policy.kind === 'percentile' ? { percentile: policy.params.percentile } : {}),
    reference: s.reference,
    referenceRows: s.referenceRows,
    policy: policy.toJSON(),
  };
}

/** The fitted policy of a manifest's threshold; `INCOMPATIBLE_MODEL` when unusable or inconsistent. */
export function thresholdPolicyOf(info: ThresholdInfo | undefined): AnyPolicy {
  if (info === undefined || info === null || typeof info !== 'object') {
    throw new ModelError('INCOMPATIBLE_MODEL', 'model manifest has no threshold');
  }
  if (info.policy === undefined) {
    // Before threshold policies: the report's percentile rule, fitted state in the info itself.
    return restorePolicy({
      kind: 'percentile',
      params: { percentile: info.percentile },
      state: { threshold: info.value, reference: info.reference, referenceRows: info.referenceRows },
    });
  }
  const policy = restorePolicy(info.policy);
  const s = policy.state;
  const percentileAgrees =
    policy.kind === 'percentile'
      ? info.percentile === policy.params.percentile
      : info.percentile === undefined;
  if (
    info.value !== s.threshold ||
    info.reference !== s.reference ||
    info.referenceRows !== s.referenceRows ||
    !percentileAgrees
  ) {
    throw new ModelError(
      'INCOMPATIBLE_MODEL',
      `model threshold ${String(info.value)} (${String(info.reference)}, ${String(info.referenceRows)} rows) ` +
        `disagrees with its ${policy.kind} policy (${s.threshold}, ${s.reference}, ${s.referenceRows} rows)`,
    );
  }
  return policy;
}

/** One line for people: `p95 of 34368 training scores`, `spot q=0.01 (GPD ξ=0.1, 137 peaks) of …`. */
export function describeThreshold(info: ThresholdInfo): string {
  try {
    return thresholdPolicyOf(info).describe();
  } catch {
    return `${String(info?.value)} (unreadable policy)`;
  }
}
