import type { MqttLink } from '@loupe/mqtt';
import { InFlight } from '@loupe/service';
import type { DeviceTopics } from '@loupe/topics';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { SampleAcks, type DeviceName } from './sample-acks';
import type { SampleBatchWriter, StoreOutcome } from './sample-batch-writer';
import { InvalidSampleError, readSampleUpload, type SampleLimits, type SampleRecord, type SampleRejection } from './sample-payload';
import type { SampleRepository } from './sample.repository';
import type { StoreFailurePolicy } from './store-failure-policy';

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/bmp': 'bmp',
  'image/tiff': 'tiff',
};

/** What the consumer is given to do its work. */
export interface SampleIngestDeps {
  link: MqttLink;
  extraLinks: MqttLink[];
  topics: DeviceTopics;
  shareGroup: string;
  samples: SampleRepository;
  writer: SampleBatchWriter;
  failures: StoreFailurePolicy;
  limits: SampleLimits;
  clock: Clock;
  metrics: CloudMetrics;
  logger: Logger;
}

/**
 * Stores the samples devices upload, exactly once per sample id. The order
 * is what makes repeats harmless: image to the blob store under a key made
 * of the sample's site, device and id (written once), then the row
 * (inserted unless present), then the SampleAck to the device, and only
 * then the broker's PUBACK. A crash anywhere before the end leaves the
 * message unacknowledged, so it comes again and finds its work done.
 *
 * What a message contains never costs the connection: a payload that can
 * never be stored is dead-lettered, acknowledged at the broker and refused
 * to its device by id, and the rest go on. Only a failure of the cloud's
 * own services fails the message (see StoreFailurePolicy), so the link
 * reconnects and the broker delivers it again.
 *
 * Each connection hands over many messages at once (see MqttLink.ackAfter),
 * and the SampleBatchWriter stores them in groups. Replicas, and the extra
 * connections of one replica (`extraLinks`), split the samples through the
 * share group.
 */
export class SampleIngestConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly inFlight = new InFlight();
  private readonly acks: SampleAcks;
  private readonly log: Logger;

  constructor(private readonly deps: SampleIngestDeps) {
    this.log = deps.logger.child({ component: 'sample-ingest' });
    this.acks = new SampleAcks(deps.link, deps.topics, this.log);
  }

  async onApplicationBootstrap(): Promise<void> {
    const { link, extraLinks, topics, shareGroup } = this.deps;
    const filter = topics.allDevices('samples');
    for (const each of [link, ...extraLinks]) each.ackAfter(filter, (topic, payload) => this.handle(topic, payload));
    await link.subscribe(filter, 1, { shareGroup });
    for (const extra of extraLinks) await extra.subscribe(filter, 1, { shareGroup, sharedOnly: true });
  }

  /** Stops taking samples and finishes those in progress; the broker keeps the rest. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.inFlight.drain();
    this.acks.flush();
  }

  /** On the samples channel, whatever its site and device levels hold: the link routes by the filter. */
  private handle(topic: string, payload: Buffer): Promise<void> {
    const parsed = this.deps.topics.parse(topic);
    if (!this.inFlight.accepting) return Promise.reject(new Error('shutting down'));
    return this.inFlight.track(parsed ? this.ingest(topic, parsed, payload) : this.refuseTopic(topic, payload));
  }

  private async ingest(topic: string, device: DeviceName, payload: Buffer): Promise<void> {
    const started = performance.now();
    let sample: SampleRecord;
    try {
      sample = readSampleUpload({ ...device, channel: 'samples' }, payload, this.deps.limits, this.deps.clock.now().getTime());
    } catch (error) {
      // Whatever reading it ran into, the payload's bytes caused it.
      const refusal = error instanceof InvalidSampleError ? error : new InvalidSampleError('malformed', `could not be read: ${(error as Error).message}`);
      await this.refuse(topic, device, payload, refusal.reason, refusal.message, refusal.sampleId);
      return;
    }
    const key = `samples/${device.siteId}/${device.deviceId}/${sample.id}.${EXTENSIONS[sample.imageMediaType] ?? 'bin'}`;
    const outcome = await this.deps.writer.store(sample, key).catch((error: unknown) => this.afterFailure(sample, error));
    if (outcome.kind === 'refused') {
      await this.refuse(topic, device, payload, outcome.reason, outcome.detail, sample.id);
      return;
    }
    this.deps.failures.noteStored(sample.id);
    this.deps.metrics.samplesIngested.inc({ outcome: outcome.kind });
    if (outcome.kind === 'stored') {
      this.deps.metrics.ingestLagSeconds.observe(Math.max(0, (Date.now() - sample.capturedAt.getTime()) / 1000));
      this.log.debug({ ...device, sampleId: sample.id, priority: sample.priority, reason: sample.reason }, 'sample stored');
    }
    this.acks.stored(device, sample.id);
    this.deps.metrics.ingestSeconds.observe((performance.now() - started) / 1000);
  }

  /** A refusal for good, or the error again so the message is delivered again. */
  private afterFailure(sample: SampleRecord, error: unknown): StoreOutcome {
    const decision = this.deps.failures.decide(sample.id, error);
    if (decision.kind === 'refuse') return { kind: 'refused', reason: decision.reason, detail: decision.detail };
    this.deps.metrics.sampleStoreFailures.inc({ kind: decision.failure });
    this.log.error(
      { siteId: sample.siteId, deviceId: sample.deviceId, sampleId: sample.id, failure: decision.failure, failures: decision.failures, err: (error as Error).message },
      decision.failure === 'unknown' ? 'sample not stored for a reason that could not be placed; the broker will deliver it again' : 'sample not stored: storage unavailable; the broker will deliver it again',
    );
    throw error;
  }

  private async refuse(topic: string, device: DeviceName, payload: Buffer, reason: SampleRejection, detail: string, sampleId: string | undefined) {
    await this.deps.samples.deadLetter({ topic, ...device, ...(sampleId === undefined ? {} : { sampleId }), reason, detail, payload });
    this.deps.metrics.deadLetters.inc({ reason });
    this.log.warn({ ...device, sampleId, reason, detail }, 'sample dead-lettered');
    if (sampleId !== undefined) this.acks.refused(device, sampleId, `${reason}: ${detail}`);
  }

  /** Published under a site or device id that is not one: kept for the operator, with no device to tell. */
  private async refuseTopic(topic: string, payload: Buffer): Promise<void> {
    const detail = "the topic's site and device levels must each be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit";
    await this.deps.samples.deadLetter({ topic, reason: 'invalid_topic', detail, payload });
    this.deps.metrics.deadLetters.inc({ reason: 'invalid_topic' });
    this.log.warn({ topic, reason: 'invalid_topic' }, 'sample on an invalid topic dead-lettered');
  }
}
