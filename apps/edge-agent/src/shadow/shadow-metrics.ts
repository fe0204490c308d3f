import { Counter, Gauge, type Registry } from 'prom-client';

/** Shadow mode on a box, in the agent's registry. */
export class ShadowMetrics {
  readonly comparisons: Counter;
  readonly disagreements: Counter;
  readonly skipped: Counter<'reason'>;
  readonly updates: Counter<'outcome' | 'step' | 'reason'>;
  readonly model: Gauge<'model' | 'version' | 'provider'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.comparisons = new Counter({
      name: 'loupe_agent_shadow_comparisons_total',
      help: 'Images the shadow model judged after the active model had answered them.',
      registers,
    });
    this.disagreements = new Counter({
      name: 'loupe_agent_shadow_disagreements_total',
      help: "Comparisons where the shadow model's verdict differed from the active model's.",
      registers,
    });
    this.skipped = new Counter({
      name: 'loupe_agent_shadow_skipped_total',
      help: 'Images not compared: queue-full (the shadow had no room; the line never waits for it) or error (the shadow failed on it).',
      labelNames: ['reason'] as const,
      registers,
    });
    this.updates = new Counter({
      name: 'loupe_agent_shadow_updates_total',
      help: 'Shadow models loaded, stopped, or failed (by step and reason code: hash-mismatch, unknown-key, http-404, ...); a failed shadow never touches the active model.',
      labelNames: ['outcome', 'step', 'reason'] as const,
      registers,
    });
    this.model = new Gauge({
      name: 'loupe_agent_shadow_model',
      help: 'The shadow model loaded beside the active one (value 1); no series when none runs.',
      labelNames: ['model', 'version', 'provider'] as const,
      registers,
    });
  }
}
