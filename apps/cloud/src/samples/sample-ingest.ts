import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CLOUD_METRICS, LOGGER } from '../infrastructure.tokens';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { SampleBatchWriter, type StoreOutcome } from './sample-batch-writer';
import type { SampleRecord } from './sample-payload';
import { SampleRepository, type DeadLetterEntry } from './sample.repository';
import { StoreFailurePolicy } from './store-failure-policy';

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/bmp': 'bmp',
  'image/tiff': 'tiff',
};

/**
 * Takes in the samples devices upload, exactly once per sample id, whatever
 * carried them: each comes out stored, a duplicate of one stored before, or
 * refused for good with a reason. The order is what makes repeats harmless:
 * image to the blob store under a key made of the sample's site, device and
 * id (written once), then the row (inserted unless present), then 'sample
 * stored' (SampleStoredEvents) to those who act on new samples; only then
 * is the outcome known, and the caller may acknowledge.
 *
 * Only a failure of the cloud's own services rejects (see
 * StoreFailurePolicy): the sample was not stored now and must come again.
 */
@Injectable()
export class SampleIngest {
  private readonly log: Logger;

  constructor(
    @Inject(SampleBatchWriter) private readonly writer: SampleBatchWriter,
    @Inject(StoreFailurePolicy) private readonly failures: StoreFailurePolicy,
    @Inject(SampleRepository) private readonly samples: SampleRepository,
    @Inject(CLOUD_METRICS) private readonly metrics: CloudMetrics,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'sample-ingest' });
  }

  async ingest(sample: SampleRecord): Promise<StoreOutcome> {
    const key = `samples/${sample.siteId}/${sample.deviceId}/${sample.id}.${EXTENSIONS[sample.imageMediaType] ?? 'bin'}`;
    const outcome = await this.writer.store(sample, key).catch((error: unknown) => this.afterFailure(sample, error));
    if (outcome.kind === 'refused') return outcome;
    this.failures.noteStored(sample.id);
    this.metrics.samplesIngested.inc({ outcome: outcome.kind });
    if (outcome.kind === 'stored') {
      this.metrics.ingestLagSeconds.observe(Math.max(0, (Date.now() - sample.capturedAt.getTime()) / 1000));
      this.log.debug({ siteId: sample.siteId, deviceId: sample.deviceId, sampleId: sample.id, priority: sample.priority, reason: sample.reason }, 'sample stored');
    }
    return outcome;
  }

  /** Keeps, for the operator, a message that can never be stored: unreadable, or a sample refused. */
  async deadLetter(entry: DeadLetterEntry): Promise<void> {
    await this.samples.deadLetter(entry);
    this.metrics.deadLetters.inc({ reason: entry.reason });
    const { topic, siteId, deviceId, sampleId, reason, detail } = entry;
    this.log.warn({ ...(siteId === undefined ? { topic } : { siteId, deviceId }), sampleId, reason, detail }, 'sample dead-lettered');
  }

  /** A refusal for good, or the error again so the message is delivered again. */
  private afterFailure(sample: SampleRecord, error: unknown): StoreOutcome {
    const decision = this.failures.decide(sample.id, error);
    if (decision.kind === 'refuse') return { kind: 'refused', reason: decision.reason, detail: decision.detail };
    this.metrics.sampleStoreFailures.inc({ kind: decision.failure });
    this.log.error(
      { siteId: sample.siteId, deviceId: sample.deviceId, sampleId: sample.id, failure: decision.failure, failures: decision.failures, err: (error as Error).message },
      decision.failure === 'unknown' ? 'sample not stored for a reason that could not be placed; the broker will deliver it again' : 'sample not stored: storage unavailable; the broker will deliver it again',
    );
    throw error;
  }
}
