/**
 * The local broker's options from the environment, for the entry points that manage it
 * (tools/infra/kafka/cli.ts and test/run.ts), so both read the same variables the same way:
 * KAFKA_BROKERS, KAFKA_VERSION, KAFKA_LOCAL_PORT (9092), KAFKA_LOCAL_CONTROLLER_PORT (port + 1, i.e. 9093),
 * KAFKA_CACHE_DIR (<repo>/.cache/kafka), KAFKA_JVM_OPTS, KAFKA_READY_TIMEOUT_MS (120000).
 */
import { z } from 'zod';
import type { LocalBrokerOptions } from './broker.js';
import { parseEnv } from '../common.js';

const port = z.coerce.number().int().min(1).max(65535);
const envSchema = z.object({
  KAFKA_BROKERS: z.string().optional(),
  KAFKA_VERSION: z
    .string()
    .regex(/^\d+\.\d+\.\d+$/)
    .optional(),
  KAFKA_LOCAL_PORT: port.optional(),
  KAFKA_LOCAL_CONTROLLER_PORT: port.optional(),
  KAFKA_CACHE_DIR: z.string().min(1).optional(),
  KAFKA_JVM_OPTS: z.string().optional(),
  KAFKA_READY_TIMEOUT_MS: z.coerce.number().int().positive().optional(),
});

/** Broker options from the environment, shared with test/run.ts. */
export function localBrokerOptionsFromEnv(
  env: NodeJS.ProcessEnv,
  progress?: (line: string) => void,
): LocalBrokerOptions & { brokersEnv?: string } {
  const e = parseEnv(envSchema, env);
  const port = e.KAFKA_LOCAL_PORT ?? 9092;
  return {
    ...(e.KAFKA_BROKERS !== undefined ? { brokersEnv: e.KAFKA_BROKERS } : {}),
    ...(e.KAFKA_VERSION !== undefined ? { version: e.KAFKA_VERSION } : {}),
    port,
    controllerPort: e.KAFKA_LOCAL_CONTROLLER_PORT ?? (e.KAFKA_LOCAL_PORT !== undefined ? port + 1 : 9093),
    ...(e.KAFKA_CACHE_DIR !== undefined ? { cacheDir: e.KAFKA_CACHE_DIR } : {}),
    ...(e.KAFKA_JVM_OPTS !== undefined ? { jvmOptions: e.KAFKA_JVM_OPTS.split(/\s+/).filter(Boolean) } : {}),
    ...(e.KAFKA_READY_TIMEOUT_MS !== undefined ? { readyTimeoutMs: e.KAFKA_READY_TIMEOUT_MS } : {}),
    ...(progress !== undefined ? { progress } : {}),
  };
}
