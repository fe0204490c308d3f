import type { ModelStatistics, ModelVersion } from '@loupe/device-state';

/** How a simulated model behaves on a box: the knob the fleet simulator turns for the version under test. */
export const MODEL_BEHAVIOURS = ['good', 'crashing', 'slow', 'overconfident', 'uncertain', 'corrupt', 'disagreeing'] as const;
export type ModelBehaviour = (typeof MODEL_BEHAVIOURS)[number];

export function isModelBehaviour(value: string): value is ModelBehaviour {
  return (MODEL_BEHAVIOURS as readonly string[]).includes(value);
}

interface Rates {
  errors: number;
  rejects: number;
  uncertain: number;
  /** Share of inspections per confidence bin, [0, 0.1) ... [0.9, 1]. */
  confidence: number[];
  p99Ms: number;
}

// A healthy PCB classifier: mostly very sure, a few percent uncertain.
const HEALTHY: Rates = {
  errors: 0.0005,
  rejects: 0.05,
  uncertain: 0.04,
  confidence: [0, 0, 0, 0, 0.005, 0.01, 0.025, 0.06, 0.2, 0.7],
  p99Ms: 20,
};

const RATES: Record<Exclude<ModelBehaviour, 'crashing' | 'corrupt'>, Rates> = {
  good: HEALTHY,
  // Looks healthy on its own counters; only running it beside the old model shows it answers differently.
  disagreeing: HEALTHY,
  slow: { ...HEALTHY, p99Ms: 65 },
  // Sure of everything, right or wrong: the histogram piles into the top bin.
  overconfident: { ...HEALTHY, uncertain: 0.01, confidence: [0, 0, 0, 0, 0, 0, 0, 0, 0.02, 0.98] },
  // Twice as many samples the sampler calls uncertain, with the confidence that goes with it.
  uncertain: { ...HEALTHY, uncertain: 0.08, confidence: [0, 0, 0, 0, 0.01, 0.03, 0.05, 0.09, 0.22, 0.6] },
};

/** How often a candidate run in shadow gives another verdict than the active model. */
export function shadowDisagreementRate(behaviour: ModelBehaviour): number {
  if (behaviour === 'good') return 0.01;
  return behaviour === 'disagreeing' ? 0.15 : 0.1;
}

/**
 * ModelStats counters that grow as a simulated model inspects parts. Counts
 * are exact shares of the inspections (carried fractions, no randomness), so
 * tests and benchmarks see the same figures every run.
 */
export class SimulatedModelStats {
  private inspections = 0;
  private readonly rates: Rates;
  private shadow: { model: ModelVersion; rate: number; compared: number } | undefined;

  constructor(behaviour: ModelBehaviour) {
    this.rates = behaviour === 'crashing' || behaviour === 'corrupt' ? HEALTHY : RATES[behaviour];
  }

  inspect(count: number): void {
    this.inspections += count;
    if (this.shadow) this.shadow.compared += count;
  }

  /** Runs `model` beside the active one from now on; undefined stops it. */
  runShadow(model: ModelVersion | undefined, behaviour: ModelBehaviour): void {
    if (!model) this.shadow = undefined;
    else if (this.shadow?.model.version !== model.version) this.shadow = { model, rate: shadowDisagreementRate(behaviour), compared: 0 };
  }

  snapshot(model: ModelVersion): ModelStatistics {
    const n = this.inspections;
    return {
      model,
      inspections: n,
      errors: Math.floor(n * this.rates.errors),
      rejects: Math.floor(n * this.rates.rejects),
      uncertain: Math.floor(n * this.rates.uncertain),
      confidenceHistogram: this.rates.confidence.map((share) => Math.floor(n * share)),
      p99Ms: this.rates.p99Ms,
      ...(this.shadow
        ? { shadowModel: this.shadow.model, shadowCompared: this.shadow.compared, shadowDisagreed: Math.floor(this.shadow.compared * this.shadow.rate) }
        : {}),
    };
  }
}
