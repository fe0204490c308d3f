import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { UPDATE_STATUSES, type UpdateStatus } from '@loupe/device-state';

/** What an operator watches of model updates on a box, in the agent's registry. */
export class OtaMetrics {
  readonly updates: Counter<'outcome' | 'step' | 'reason'>;
  readonly rollbacks: Counter<'reason'>;
  readonly downloadBytes: Counter;
  readonly desiredMessages: Counter<'outcome'>;
  readonly stepSeconds: Histogram<'step'>;
  private readonly status: Gauge<'status'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.updates = new Counter({
      name: 'loupe_agent_ota_updates_total',
      help: 'Model updates that ended, by outcome (activated, failed, rolled_back), the step that decided it, and the reason code (ok, hash-mismatch, unknown-key, too-large, latency, crashes, ...).',
      labelNames: ['outcome', 'step', 'reason'] as const,
      registers,
    });
    this.rollbacks = new Counter({
      name: 'loupe_agent_ota_rollbacks_total',
      help: 'Returns to the previous model, by reason: desired (the cloud asked), crashes, error-rate, latency (probation), unloadable (the active model would not load at start).',
      labelNames: ['reason'] as const,
      registers,
    });
    this.downloadBytes = new Counter({
      name: 'loupe_agent_ota_download_bytes_total',
      help: 'Bytes of model packages downloaded (resumed downloads count only the new bytes).',
      registers,
    });
    this.desiredMessages = new Counter({
      name: 'loupe_agent_ota_desired_messages_total',
      help: 'DesiredState messages received, by outcome: accepted, older (a generation already superseded), invalid (logged and ignored), empty (a cleared retained message).',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.stepSeconds = new Histogram({
      name: 'loupe_agent_ota_step_seconds',
      help: 'Time per update step: download, verify, stage, warm-up (on TensorRT, the engine build), self-test, activate, roll-back.',
      labelNames: ['step'] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900],
      registers,
    });
    this.status = new Gauge({
      name: 'loupe_agent_ota_status',
      help: 'The model update status this box reports (value 1): idle, downloading, verifying, warming-up, self-testing, active, rolled-back or failed.',
      labelNames: ['status'] as const,
      registers,
    });
  }

  setStatus(current: UpdateStatus): void {
    for (const status of UPDATE_STATUSES) this.status.set({ status }, status === current ? 1 : 0);
  }
}
