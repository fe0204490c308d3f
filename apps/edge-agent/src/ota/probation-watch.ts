import { sameModel } from '@loupe/device-state';
import { probationVerdict, type ProbationBudget, type ProbationVerdict } from '@loupe/ota';
import type { ModelStats } from '../models/model-stats';
import type { BoxStateFile } from './box-state-file';

export type ProbationFailure = Extract<ProbationVerdict, { verdict: 'roll-back' }>;

export interface ProbationSettings {
  windowMs: number;
  budget: ProbationBudget;
}

/**
 * Watches the model on probation: its errors and p99 latency since it
 * became active, and the crashes counted at each start. Says when it must
 * go and when its window has passed; the model updater acts on both.
 */
export class ProbationWatch {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly state: BoxStateFile,
    private readonly stats: ModelStats,
    private readonly settings: ProbationSettings,
    private readonly events: { failed(failure: ProbationFailure): void; passed(): void },
    private readonly now: () => number,
  ) {}

  start(): void {
    // Cheap to judge, so judged often: a failing model should not serve a second longer than needed.
    const everyMs = Math.min(1_000, Math.max(50, this.settings.windowMs / 20));
    this.timer = setInterval(() => this.check(), everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The verdict on the model on probation now; undefined when none is. */
  verdict(): ProbationVerdict | undefined {
    const probation = this.state.current.probation;
    if (!probation) return undefined;
    const snapshot = this.stats.snapshot();
    const observed = snapshot && sameModel(snapshot.model, probation.model) ? snapshot : { inspections: 0, errors: 0, p99Ms: 0 };
    return probationVerdict({ inspections: observed.inspections, errors: observed.errors, p99Ms: observed.p99Ms, crashes: probation.crashes }, this.settings.budget);
  }

  private check(): void {
    const probation = this.state.current.probation;
    const verdict = this.verdict();
    if (!probation || !verdict) return;
    if (verdict.verdict === 'roll-back') this.events.failed(verdict);
    else if (this.now() - probation.startedAt >= this.settings.windowMs) this.events.passed();
  }
}
