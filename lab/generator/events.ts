/**
 * What every event source yields: one record to produce, with the ground truth the demo scores against.
 */
import type { AnomalyVariant } from './anomalies.js';

/**
 * Where in the stream an event sits. `train` is the anomaly-free prefix the first model is trained on;
 * the built-in generator then runs `stable` → `abrupt` (a sudden shift) → `gradual` (a slow shift);
 * a user's CSV file streams as one `stream` phase.
 */
export type Phase = 'train' | 'stable' | 'abrupt' | 'gradual' | 'stream';

export const SYNTHETIC_PHASES: readonly Phase[] = ['stable', 'abrupt', 'gradual'];

export interface LabelledEvent {
  /** Position in the whole stream, training prefix included (0-based). */
  index: number;
  /** The Kafka message key (an entity id, or a CSV key column). */
  key: string;
  /** The record to encode with the source's Avro schema. */
  record: Record<string, unknown>;
  /** Event time, epoch milliseconds. */
  eventTime: number;
  /** 1 for an injected (or file-labelled) anomaly, 0 otherwise. */
  label: 0 | 1;
  phase: Phase;
  /** The injected variant, or null for normal rows and for anomalies labelled by the file itself. */
  variant: AnomalyVariant | null;
}

/** A numeric or categorical model feature a source offers (the demo builds the feature spec from these). */
export interface SourceFeature {
  kind: 'numeric' | 'categorical';
  name: string;
}

/** An Avro record schema, as JSON (what `avsc`'s `Type.forSchema` takes and what a `.avsc` file holds). */
export interface AvroRecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
  doc?: string;
  fields: { name: string; type: unknown; doc?: string; default?: unknown }[];
}

/** A labelled stream plus what a pipeline needs to carry it: its schema and its features. */
export interface EventSource {
  /** A human description, e.g. `generator(seed=42)` or `file:/path/x.csv`. */
  description: string;
  schema: AvroRecordSchema;
  features: SourceFeature[];
  /** How many leading events are the training part (phase `train`). */
  trainRecords: number;
  /** How many events follow the training part. */
  streamRecords: number;
  /** The events in stream order, training part first. Iterating twice yields the same events. */
  events(): AsyncIterable<LabelledEvent>;
}
