import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

interface OutboxReadings {
  count: number;
  bytes: number;
  quarantinedCount: number;
  quarantinedBytes: number;
  oldestAgeMs(): number;
}

/** Every number an operator watches on an edge box, in one registry per process. */
export class AgentMetrics {
  readonly registry = new Registry();

  readonly telemetryMessages = new Counter({
    name: 'loupe_agent_telemetry_messages_total',
    help: 'Telemetry messages, by outcome: sent (broker acknowledged), skipped (link down) or failed.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });



  readonly stageSeconds = new Histogram({
    name: 'loupe_agent_inspect_stage_seconds',
    help: 'Time per request in each stage: decode, preprocess, queue, inference, postprocess, and total.',
    labelNames: ['stage'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  readonly batchSize = new Histogram({
    name: 'loupe_agent_inference_batch_size',
    help: 'Images per inference run.',
    buckets: [1, 2, 4, 8, 16, 32],
    registers: [this.registry],
  });

  readonly verdicts = new Counter({
    name: 'loupe_agent_verdicts_total',
    help: 'Inspections answered, by verdict (pass, reject, or the top class).',
    labelNames: ['verdict'] as const,
    registers: [this.registry],
  });

  readonly inspectErrors = new Counter({
    name: 'loupe_agent_inspect_errors_total',
    help: 'Inspect requests that failed, by kind: invalid_argument, resource_exhausted, deadline_exceeded, unavailable, internal.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly damagedImages = new Counter({
    name: 'loupe_agent_damaged_images_total',
    help: 'Images refused as damaged (cut short, corrupt data, a size that lies, or a SHA-256 that does not match); a camera link going bad shows here first. Each also counts in loupe_agent_inspect_errors_total{kind="invalid_argument"}.',
    registers: [this.registry],
  });

  readonly activeModel = new Gauge({
    name: 'loupe_agent_active_model_info',
    help: 'The model serving requests and the execution provider running it (value 1).',
    labelNames: ['model', 'version', 'provider'] as const,
    registers: [this.registry],
  });

  readonly samplesConsidered = new Counter({
    name: 'loupe_agent_samples_considered_total',
    help: 'Inspections the sampler looked at, by outcome: selected, or the reason skipped (confident, redundant, near_duplicate, class_cap, hourly_budget, daily_bytes, unreadable_image).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly samplesSelected = new Counter({
    name: 'loupe_agent_samples_selected_total',
    help: 'Samples selected for labeling, by reason: least_confidence, margin, entropy, anomaly_near_threshold, detection_near_threshold, random_calibration.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  private outbox: OutboxReadings | undefined;

  readonly outboxSamples = this.readingGauge('loupe_agent_outbox_samples', 'Samples in the outbox, waiting or in flight.', () => this.outbox?.count);

  readonly outboxBytes = this.readingGauge('loupe_agent_outbox_bytes', 'Bytes of samples in the outbox.', () => this.outbox?.bytes);

  readonly outboxOldestAgeSeconds = this.readingGauge(
    'loupe_agent_outbox_oldest_age_seconds',
    'Age of the oldest sample in the outbox; grows while the link is down.',
    () => this.outbox && this.outbox.oldestAgeMs() / 1000,
  );

  readonly outboxDropped = new Counter({
    name: 'loupe_agent_outbox_dropped_total',
    help: 'Samples that will never be sent nor kept, by reason: outbox_full (least valuable dropped), write_backlog, write_failed, disk_full (the disk refused the write), disk_reserve (refused to keep OUTBOX_DISK_RESERVE_BYTES free), quarantine_full (earliest quarantined sample deleted).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly outboxQuarantined = new Counter({
    name: 'loupe_agent_outbox_quarantined_total',
    help: 'Samples set aside in OUTBOX_DIR/quarantine, never to be sent again, by reason: undecodable (not a SampleUpload of its sample), rejected (refused by the cloud), attempts (UPLINK_MAX_ATTEMPTS used up).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly outboxQuarantineSamples = this.readingGauge('loupe_agent_outbox_quarantine_samples', 'Samples held in the outbox quarantine.', () => this.outbox?.quarantinedCount);

  readonly outboxQuarantineBytes = this.readingGauge('loupe_agent_outbox_quarantine_bytes', 'Bytes of samples held in the outbox quarantine.', () => this.outbox?.quarantinedBytes);

  readonly samplesPublished = new Counter({
    name: 'loupe_agent_samples_published_total',
    help: 'Sample uploads published to the broker (a sample sent again counts again).',
    registers: [this.registry],
  });

  readonly sampleBytesPublished = new Counter({
    name: 'loupe_agent_sample_bytes_published_total',
    help: 'Bytes of sample uploads published.',
    registers: [this.registry],
  });

  readonly samplesAcknowledged = new Counter({
    name: 'loupe_agent_samples_acknowledged_total',
    help: 'Samples the cloud acknowledged as stored, which then left the outbox.',
    registers: [this.registry],
  });

  readonly samplesResent = new Counter({
    name: 'loupe_agent_samples_resent_total',
    help: 'Samples put back in line to be sent again, by reason: ack_timeout, link_lost, publish_failed.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  private inferenceQueue: (() => number) | undefined;

  readonly inferenceQueueDepth = this.readingGauge(
    'loupe_agent_inference_queue_depth',
    'Inspections waiting for the model; requests beyond INFERENCE_QUEUE_LIMIT are refused.',
    () => this.inferenceQueue?.(),
  );

  /** Reads the active model's queue depth whenever metrics are scraped. */
  trackInferenceQueue(depth: () => number): void {
    this.inferenceQueue = depth;
  }

  /** Reads the outbox's size and age whenever metrics are scraped. */
  trackOutbox(outbox: OutboxReadings): void {
    this.outbox = outbox;
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'loupe_agent_' });
  }

  /** A gauge read at scrape time; it keeps its last value while `read` has nothing to read. */
  private readingGauge(name: string, help: string, read: () => number | undefined): Gauge {
    return new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        const value = read();
        if (value !== undefined) this.set(value);
      },
    });
  }
}
