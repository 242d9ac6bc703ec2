/** Flag records for the alerts tests. */
import type { FlagRecord } from '../../../shared/avro/schemas.js';

export function flag(
  offset: number,
  key: string | null,
  eventTime: number,
  extra: Partial<FlagRecord> = {},
): FlagRecord {
  return {
    pipeline: 'p',
    topic: 'p.records',
    partition: 0,
    offset,
    key,
    eventTime,
    score: 0.5,
    threshold: 0.1,
    modelVersion: 3,
    topFeatures: [{ name: 'amount', value: 900, expected: 30, share: 0.8 }],
    flaggedAt: eventTime + 5,
    thresholdPolicy: 'percentile',
    pValue: null,
    ...extra,
  };
}
