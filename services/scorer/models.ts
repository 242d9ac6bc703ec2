/**
 * Which models the scorer runs: a published version is checked against the record schema, built, and
 * installed in the slot between batches; one that fails verification or does not fit is refused, logged
 * and counted, and the running model stays. If the very first model cannot be fed by the record schema,
 * the scorer refuses to start (`onFirstUnfit`) rather than dead-letter every record.
 */
import { describeFitIssue, featureFitIssues } from '../../shared/avro/feature-fit.js';
import type { AvroType } from '../../shared/avro/schemas.js';
import { isSmaeError, ModelError, type ErrorCode } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { ModelArtifact } from '../../shared/model/artifact.js';
import type { ScoringModel } from '../../shared/scoring/model.js';
import type { ScorerMetrics } from './metrics.js';
import type { ModelSlot } from './model-slot.js';

/** A published model as the registry hands it out. */
export interface PublishedVersion {
  version: number;
  artifact: ModelArtifact;
}

export interface ModelInstallerOptions {
  slot: ModelSlot;
  metrics: ScorerMetrics;
  log: Logger;
  readerSchema: AvroType;
  /** Where the reader schema came from, for messages. */
  schemaPath: string;
  loadModel(artifact: ModelArtifact): ScoringModel;
  onModel?: ((event: { version: number; installed: boolean; error?: Error }) => void) | undefined;
  /** The first model does not fit the record schema: the scorer must not start. */
  onFirstUnfit(err: Error): void;
}

export class ModelInstaller {
  constructor(private readonly o: ModelInstallerOptions) {}

  install(m: PublishedVersion): void {
    const { slot, metrics, log } = this.o;
    let model: ScoringModel;
    try {
      checkFitsSchema(m.artifact, this.o.readerSchema, this.o.schemaPath);
      model = this.o.loadModel(m.artifact);
    } catch (err) {
      this.refuse(m.version, err as Error);
      return;
    }
    const previous = slot.version;
    slot.install(model);
    metrics.modelVersion.set(m.version);
    const created = Date.parse(m.artifact.manifest.createdAt);
    if (Number.isFinite(created)) metrics.modelCreated.set(created / 1000);
    metrics.modelSwaps.inc();
    log.info({ version: m.version, previous }, previous === null ? 'model loaded' : 'model swapped');
    this.o.onModel?.({ version: m.version, installed: true });
  }

  refuse(version: number, err: Error): void {
    const code: ErrorCode = isSmaeError(err) ? err.code : 'INCOMPATIBLE_MODEL';
    this.o.metrics.modelsRefused.inc({ code });
    this.o.onModel?.({ version, installed: false, error: err });
    if (this.o.slot.version === null && code === 'INCOMPATIBLE_MODEL') {
      this.o.log.error(
        { version, code, err: err.message },
        'the current model does not fit the record schema; not starting',
      );
      this.o.onFirstUnfit(err);
      return;
    }
    this.o.log.error({ version, code, err: err.message }, 'model version refused; the running model stays');
  }
}

/** The field names of a record schema (the features a model may use); refuses a non-record schema. */
export function recordFieldNames(type: AvroType): Set<string> {
  const fields = (type as unknown as { fields?: { name: string }[] }).fields;
  if (type.typeName !== 'record' || !Array.isArray(fields)) {
    throw new ModelError(
      'INCOMPATIBLE_MODEL',
      `the record schema must be an Avro record, got ${type.typeName}`,
    );
  }
  return new Set(fields.map((f) => f.name));
}

/**
 * Refuses a model whose features the record schema cannot feed (a field absent, or of a type the
 * feature cannot read): every record would be dead-lettered. Names each field, its type and the need.
 */
function checkFitsSchema(artifact: ModelArtifact, readerSchema: AvroType, schemaPath: string): void {
  const features = artifact.manifest?.preprocessing?.spec?.features ?? [];
  const issues = featureFitIssues(readerSchema, { features });
  if (issues.length > 0) {
    throw new ModelError(
      'INCOMPATIBLE_MODEL',
      `the record schema ${schemaPath} cannot feed the model's features: ${issues.map(describeFitIssue).join('; ')}. ` +
        'Train the model on this schema (smae init, then smae train --features) or point SMAE_RECORD_SCHEMA at the schema it was trained on',
      { details: { issues } },
    );
  }
}
