/**
 * The scorer's current model, swapped between batches.
 *
 * A batch leases the model at its start and releases it at its end, so a batch is scored by exactly
 * one model (never by half of one), whatever arrives meanwhile. `install` makes a new model current for
 * the batches that start after it; the old one is disposed when its last lease is released (at once if
 * none is out). With several partitions consumed concurrently, batches in flight finish on the model
 * they started with while new ones use the new model.
 */
import type { ScoringModel } from '../../shared/scoring/model.js';

export interface ModelLease {
  readonly model: ScoringModel;
  release(): void;
}

interface Slot {
  model: ScoringModel;
  leases: number;
  retired: boolean;
}

export class ModelSlot {
  private current: Slot | null = null;
  private waiters: ((m: ScoringModel) => void)[] = [];

  get model(): ScoringModel | null {
    return this.current?.model ?? null;
  }

  get version(): number | null {
    return this.current?.model.version ?? null;
  }

  /** Makes `model` current; the previous one is disposed once no batch holds it. */
  install(model: ScoringModel): void {
    const old = this.current;
    this.current = { model, leases: 0, retired: false };
    if (old) {
      old.retired = true;
      if (old.leases === 0) old.model.dispose();
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(model);
  }

  /** Leases the current model for one batch. Throws if there is none (the scorer waits for one before consuming). */
  acquire(): ModelLease {
    const slot = this.current;
    if (!slot) throw new Error('no model loaded yet');
    slot.leases++;
    let released = false;
    return {
      model: slot.model,
      release: () => {
        if (released) return;
        released = true;
        slot.leases--;
        if (slot.retired && slot.leases === 0) slot.model.dispose();
      },
    };
  }

  /** Resolves with the first model installed (at once if there is one); rejects when `signal` aborts. */
  waitForModel(signal?: AbortSignal): Promise<ScoringModel> {
    if (this.current) return Promise.resolve(this.current.model);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(signal?.reason ?? new Error('aborted'));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push((m) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(m);
      });
    });
  }

  /** Disposes the current model (on shutdown, after the last batch). */
  dispose(): void {
    const slot = this.current;
    this.current = null;
    if (slot) {
      slot.retired = true;
      if (slot.leases === 0) slot.model.dispose();
    }
  }
}
