/**
 * The adapter's own state, beside the registry: frozen anchors and the per-cycle ledger.
 *
 * ```
 * smae:{name}:adapter:anchor:<version>   HASH    meta (JSON), weights (f32 LE), golden (f32 LE)
 * smae:{name}:adapter:cycle:<cycleId>    STRING  the cycle's outcome (JSON), kept `ledgerTtlSeconds`
 * smae:{name}:adapter:outcomes           LIST    the latest outcomes (JSON), newest first, capped
 * smae:{name}:adapter:lock               STRING  the pipeline's adaptation lock (see lock.ts)
 * ```
 *
 * The ledger is the idempotency key of a cycle: a retried or duplicated job that finds its cycle there
 * returns the recorded outcome instead of adapting again. An in-memory implementation serves the
 * benchmark and unit tests.
 */
import type { Redis } from 'ioredis';
import { pipelineNames } from '../pipeline.js';
import type { AnchorState } from './anchor.js';
import type { CycleOutcome } from './types.js';

export interface AdapterState {
  getAnchor(version: number): Promise<AnchorState | null>;
  /** Stores an anchor unless one is already stored for that version (first writer wins); returns the stored one. */
  putAnchor(state: AnchorState): Promise<AnchorState>;
  getOutcome(cycleId: string): Promise<CycleOutcome | null>;
  putOutcome(outcome: CycleOutcome): Promise<void>;
  /** The latest outcomes, newest first. */
  recentOutcomes(limit?: number): Promise<CycleOutcome[]>;
}

export function adapterKeys(pipeline: string): {
  anchor(version: number): string;
  cycle(cycleId: string): string;
  outcomes: string;
  lock: string;
} {
  const p = `${pipelineNames(pipeline).redisPrefix}adapter:`;
  return {
    anchor: (v) => `${p}anchor:${v}`,
    cycle: (id) => `${p}cycle:${id}`,
    outcomes: `${p}outcomes`,
    lock: `${p}lock`,
  };
}

export interface RedisAdapterStateOptions {
  /** How long a cycle's outcome is remembered (default 7 days): longer than any retry can last. */
  ledgerTtlSeconds?: number;
  /** Outcomes kept in the recent list (default 100). */
  recentLimit?: number;
}

const PUT_ANCHOR_IF_ABSENT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'meta', ARGV[1], 'weights', ARGV[2], 'golden', ARGV[3])
return 1`;

export class RedisAdapterState implements AdapterState {
  private readonly keys: ReturnType<typeof adapterKeys>;
  private readonly ttl: number;
  private readonly recentLimit: number;

  constructor(
    private readonly redis: Redis,
    pipeline: string,
    opts: RedisAdapterStateOptions = {},
  ) {
    this.keys = adapterKeys(pipeline);
    this.ttl = opts.ledgerTtlSeconds ?? 7 * 24 * 3600;
    this.recentLimit = opts.recentLimit ?? 100;
  }

  async getAnchor(version: number): Promise<AnchorState | null> {
    const [meta, weights, golden] = await this.redis.hmgetBuffer(
      this.keys.anchor(version),
      'meta',
      'weights',
      'golden',
    );
    if (meta === null || weights === null || golden === null) return null;
    return decodeAnchor(meta.toString('utf8'), weights, golden);
  }

  async putAnchor(state: AnchorState): Promise<AnchorState> {
    const key = this.keys.anchor(state.anchorVersion);
    const { meta, weights, golden } = encodeAnchor(state);
    // One script: readers never see half an anchor, and the first writer wins.
    const won = (await this.redis.eval(PUT_ANCHOR_IF_ABSENT, 1, key, meta, weights, golden)) as number;
    if (won === 1) return state;
    return (await this.getAnchor(state.anchorVersion)) ?? state;
  }

  async getOutcome(cycleId: string): Promise<CycleOutcome | null> {
    const text = await this.redis.get(this.keys.cycle(cycleId));
    return text === null ? null : (JSON.parse(text) as CycleOutcome);
  }

  async putOutcome(outcome: CycleOutcome): Promise<void> {
    const text = JSON.stringify(outcome);
    await this.redis
      .multi()
      .set(this.keys.cycle(outcome.cycleId), text, 'EX', this.ttl)
      .lpush(this.keys.outcomes, text)
      .ltrim(this.keys.outcomes, 0, this.recentLimit - 1)
      .exec();
  }

  async recentOutcomes(limit = 20): Promise<CycleOutcome[]> {
    const items = await this.redis.lrange(this.keys.outcomes, 0, limit - 1);
    return items.map((t) => JSON.parse(t) as CycleOutcome);
  }
}

export class MemoryAdapterState implements AdapterState {
  private readonly anchors = new Map<number, AnchorState>();
  private readonly outcomes = new Map<string, CycleOutcome>();
  private readonly recent: CycleOutcome[] = [];

  async getAnchor(version: number): Promise<AnchorState | null> {
    return this.anchors.get(version) ?? null;
  }
  async putAnchor(state: AnchorState): Promise<AnchorState> {
    const existing = this.anchors.get(state.anchorVersion);
    if (existing) return existing;
    this.anchors.set(state.anchorVersion, state);
    return state;
  }
  async getOutcome(cycleId: string): Promise<CycleOutcome | null> {
    return this.outcomes.get(cycleId) ?? null;
  }
  async putOutcome(outcome: CycleOutcome): Promise<void> {
    this.outcomes.set(outcome.cycleId, outcome);
    this.recent.unshift(outcome);
  }
  async recentOutcomes(limit = 20): Promise<CycleOutcome[]> {
    return this.recent.slice(0, limit);
  }
}

interface AnchorMeta {
  anchorVersion: number;
  threshold: number;
  residualThreshold?: number;
  weightShapes: number[][];
  golden: { rows: number; width: number; variants: ('A' | 'B')[]; injected: number; anchorRecall: number };
  goldenSource: string;
  createdAt: string;
}

export function encodeAnchor(s: AnchorState): { meta: string; weights: Buffer; golden: Buffer } {
  const meta: AnchorMeta = {
    anchorVersion: s.anchorVersion,
    threshold: s.threshold,
    residualThreshold: s.residualThreshold,
    weightShapes: s.weightShapes,
    golden: {
      rows: s.golden.rows,
      width: s.golden.width,
      variants: s.golden.variants,
      injected: s.golden.injected,
      anchorRecall: s.golden.anchorRecall,
    },
    goldenSource: s.goldenSource,
    createdAt: s.createdAt,
  };
  const total = s.weights.reduce((n, w) => n + w.length, 0);
  const flat = new Float32Array(total);
  let o = 0;
  for (const w of s.weights) {
    flat.set(w, o);
    o += w.length;
  }
  return { meta: JSON.stringify(meta), weights: f32ToBuffer(flat), golden: f32ToBuffer(s.golden.matrix) };
}

export function decodeAnchor(metaText: string, weights: Buffer, golden: Buffer): AnchorState {
  const meta = JSON.parse(metaText) as AnchorMeta;
  const flat = bufferToF32(weights);
  const tensors: Float32Array[] = [];
  let o = 0;
  for (const shape of meta.weightShapes) {
    const n = shape.reduce((p, d) => p * d, 1);
    tensors.push(flat.slice(o, o + n));
    o += n;
  }
  return {
    anchorVersion: meta.anchorVersion,
    threshold: meta.threshold,
    residualThreshold: meta.residualThreshold ?? meta.threshold,
    weightShapes: meta.weightShapes,
    weights: tensors,
    golden: { ...meta.golden, matrix: bufferToF32(golden) },
    goldenSource: meta.goldenSource,
    createdAt: meta.createdAt,
  };
}

function f32ToBuffer(a: Float32Array): Buffer {
  const b = Buffer.alloc(a.length * 4);
  for (let i = 0; i < a.length; i++) b.writeFloatLE(a[i]!, i * 4);
  return b;
}

function bufferToF32(b: Buffer): Float32Array {
  const out = new Float32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4);
  return out;
}
