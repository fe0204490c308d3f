import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every number an operator watches on the cloud, in one registry per process. */
export class CloudMetrics {
  readonly registry = new Registry();

  readonly telemetryMessages = new Counter({
    name: 'loupe_cloud_telemetry_messages_total',
    help: 'Telemetry messages consumed, by outcome: recorded, rejected (invalid payload) or failed (could not be stored).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });



  readonly samplesIngested = new Counter({
    name: 'loupe_cloud_samples_ingested_total',
    help: 'Sample uploads consumed, by outcome: stored (new) or duplicate (a repeat of a stored sample, acknowledged again).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly deadLetters = new Counter({
    name: 'loupe_cloud_sample_dead_letters_total',
    help: 'Sample payloads refused into the dead-letter table, by reason: malformed, too_large, invalid, wrong_device, id_conflict, invalid_topic, unstorable.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly sampleStoreFailures = new Counter({
    name: 'loupe_cloud_sample_store_failures_total',
    help: 'Sample uploads left unacknowledged for the broker to deliver again, by kind: infrastructure (database, blob store or disk failing) or unknown (could not be placed; refused as unstorable once one sample keeps failing while others store).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly ingestLagSeconds = new Histogram({
    name: 'loupe_cloud_sample_ingest_lag_seconds',
    help: 'From capture on the device to stored in the cloud, per new sample: grows while devices drain a backlog.',
    buckets: [0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 1800, 3600, 21600, 86400],
    registers: [this.registry],
  });

  readonly ingestSeconds = new Histogram({
    name: 'loupe_cloud_sample_ingest_seconds',
    help: 'Time to store one sample (image, row and acknowledgement).',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  readonly modelPushes = new Counter({
    name: 'loupe_cloud_model_pushes_total',
    help: 'Model packages pushed to the registry, by outcome: accepted, or the refusal reason (hash-mismatch, unsigned, golden-mismatch, ...).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly modelValidationSeconds = new Histogram({
    name: 'loupe_cloud_model_validation_seconds',
    help: 'Time to validate a pushed model package: unpack, verify, load in onnxruntime, warm up, golden samples.',
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  readonly signInsRefused = new Counter({
    name: 'loupe_cloud_sign_ins_refused_total',
    help: 'Sign-in attempts refused before their password was checked, by reason: address and account (throttled, 429), busy (too many hashes at once, 503).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly httpRequests = new Counter({
    name: 'loupe_cloud_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly desiredStatesPublished = new Counter({
    name: 'loupe_cloud_desired_states_published_total',
    help: 'Retained DesiredState messages sent to devices, by outcome: published, or failed (sent again later).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly reportedStates = new Counter({
    name: 'loupe_cloud_reported_states_total',
    help: 'ReportedState messages consumed, by outcome: recorded, rejected (invalid payload) or failed (could not be stored).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly rolloutLeader = new Gauge({
    name: 'loupe_cloud_rollout_leader',
    help: '1 while this replica runs the rollout controller (holds the leader lease), 0 otherwise.',
    registers: [this.registry],
  });

  readonly rollouts = new Gauge({
    name: 'loupe_cloud_rollouts',
    help: 'Rollouts by state (running, paused, rolling_back, succeeded, rolled_back, aborted), as the leader last saw them.',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });

  readonly rolloutGateVerdicts = new Counter({
    name: 'loupe_cloud_rollout_gate_verdicts_total',
    help: 'Gate judgements of rollout stages, by verdict: pass, fail, no-data.',
    labelNames: ['verdict'] as const,
    registers: [this.registry],
  });

  readonly rolloutTickSeconds = new Histogram({
    name: 'loupe_cloud_rollout_tick_seconds',
    help: 'Time the rollout controller takes for one pass over the running rollouts.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly trainingRuns = new Counter({
    name: 'loupe_cloud_training_runs_total',
    help: 'Training run attempts ended on this replica, by outcome: succeeded, failed, lost (cancelled, or claimed again after its lease ran out), released (handed back at shutdown), abandoned (interrupted on its last attempt, failed).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly trainingRunSeconds = new Histogram({
    name: 'loupe_cloud_training_run_seconds',
    help: 'Time a worker spent on one training run attempt, from claim to succeeded or failed.',
    labelNames: ['outcome'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [this.registry],
  });

  readonly trainingFeatures = new Counter({
    name: 'loupe_cloud_training_features_total',
    help: 'Feature vectors training runs used, by source: computed (the backbone ran) or cached (computed by an earlier run on the same backbone bytes).',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'loupe_cloud_' });
  }
}
