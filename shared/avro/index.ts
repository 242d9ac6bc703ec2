/** Avro codecs and schemas: the pipeline's record framing (see `decoder.ts`) and its own schemas. */
export * from './schemas.js';
export * from './decoder.js';
export * from './encoder.js';
export * from './schema-ids.js';
export * from './confluent-output.js';
