import { CONFIDENCE_BINS, confidenceBin, sameModel, type ModelStatistics } from '@loupe/device-state';
import type { Inspection } from '@loupe/inference';
import type { ActiveModel } from '../status/agent-status';
import { LatencyHistogram } from './latency-histogram';

/**
 * How the active model behaves on this box since it became active: what
 * the rollout gates compare between cohorts and what probation judges.
 * Every activation starts the counters at zero. An inspection answered by
 * the model before it (still finishing during a swap) does not count.
 */
export class ModelStats {
  private model: ActiveModel | undefined;
  private inspections = 0;
  private errors = 0;
  private rejects = 0;
  private uncertainCount = 0;
  private confidence = new Array<number>(CONFIDENCE_BINS).fill(0);
  private latency = new LatencyHistogram();
  private shadow: ActiveModel | undefined;
  private shadowComparedCount = 0;
  private shadowDisagreedCount = 0;

  /** A new active model: every counter starts again; a running shadow keeps running against it. */
  reset(model: ActiveModel): void {
    this.model = { ...model };
    this.inspections = 0;
    this.errors = 0;
    this.rejects = 0;
    this.uncertainCount = 0;
    this.confidence = new Array<number>(CONFIDENCE_BINS).fill(0);
    this.latency = new LatencyHistogram();
    this.shadowComparedCount = 0;
    this.shadowDisagreedCount = 0;
  }

  /** `shadow` now runs beside the active model; its comparisons start at zero. */
  shadowStarted(shadow: ActiveModel): void {
    this.shadow = { ...shadow };
    this.shadowComparedCount = 0;
    this.shadowDisagreedCount = 0;
  }

  shadowStopped(): void {
    this.shadow = undefined;
    this.shadowComparedCount = 0;
    this.shadowDisagreedCount = 0;
  }

  /** `shadow` judged an image the active model had judged; comparisons against a model since replaced do not count. */
  shadowCompared(active: ActiveModel, shadow: ActiveModel, disagreed: boolean): void {
    if (!this.isCurrent(active) || !sameModel(this.shadow, shadow)) return;
    this.shadowComparedCount++;
    if (disagreed) this.shadowDisagreedCount++;
  }

  inspected({ model, prediction, timings }: Inspection): void {
    if (!this.isCurrent(model)) return;
    this.inspections++;
    if (prediction.verdict === 'reject') this.rejects++;
    // Scores come highest first; a detector that found nothing was sure of nothing.
    this.confidence[confidenceBin(prediction.scores[0]?.score ?? 0)]!++;
    this.latency.record(timings.totalMs);
  }

  /** An inspection the active model failed to answer. */
  failed(): void {
    if (this.model) this.errors++;
  }

  /** The sampling policy rated an inspection by `model` uncertain. */
  uncertain(model: ActiveModel): void {
    if (this.isCurrent(model)) this.uncertainCount++;
  }

  snapshot(): ModelStatistics | undefined {
    if (!this.model) return undefined;
    return {
      model: { ...this.model },
      inspections: this.inspections,
      errors: this.errors,
      rejects: this.rejects,
      uncertain: this.uncertainCount,
      confidenceHistogram: [...this.confidence],
      p99Ms: this.latency.quantile(0.99),
      ...(this.shadow ? { shadowModel: { ...this.shadow }, shadowCompared: this.shadowComparedCount, shadowDisagreed: this.shadowDisagreedCount } : {}),
    };
  }

  private isCurrent(model: ActiveModel): boolean {
    return sameModel(this.model, model);
  }
}
