import type { MqttLink } from '@loupe/mqtt';
import { SampleAck } from '@loupe/proto';
import type { DeviceTopics } from '@loupe/topics';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import type { BlobStore } from '../blobs/blob-store';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { InvalidSampleError, readSampleUpload, type SampleRecord } from './sample-payload';
import type { SampleRepository } from './sample.repository';

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/bmp': 'bmp',
  'image/tiff': 'tiff',
};

/**
 * Stores the samples devices upload, exactly once per sample id. The order
 * is what makes repeats harmless: image to the blob store under a key made
 * of the sample id (written once), then the row (inserted unless present),
 * then the SampleAck to the device, and only then the broker's PUBACK. A
 * crash anywhere before the end leaves the message unacknowledged, so it
 * comes again and finds its work done. A payload that can never be stored is
 * dead-lettered, acknowledged, and refused to the device by id.
 *
 * mqtt.js hands a connection's messages over one at a time, so the consumer
 * spreads the work over several connections in the share group (the main
 * link plus `extraLinks`); the broker splits the samples between them.
 */
export class SampleIngestConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private accepting = true;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly log: Logger;

  constructor(
    private readonly link: MqttLink,
    private readonly extraLinks: MqttLink[],
    private readonly topics: DeviceTopics,
    private readonly shareGroup: string,
    private readonly samples: SampleRepository,
    private readonly blobs: BlobStore,
    private readonly maxSampleBytes: number,
    private readonly metrics: CloudMetrics,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'sample-ingest' });
  }

  async onApplicationBootstrap(): Promise<void> {
    const filter = this.topics.allDevices('samples');
    for (const link of [this.link, ...this.extraLinks]) {
      link.ackAfter((topic, payload) => {
        const parsed = this.topics.parse(topic);
        if (parsed?.channel !== 'samples') return Promise.resolve();
        if (!this.accepting) return Promise.reject(new Error('shutting down'));
        const work = this.ingest(link, topic, parsed, payload).finally(() => this.inFlight.delete(work));
        this.inFlight.add(work);
        return work;
      });
    }
    await this.link.subscribe(filter, 1, { shareGroup: this.shareGroup });
    for (const link of this.extraLinks) await link.subscribe(filter, 1, { shareGroup: this.shareGroup, sharedOnly: true });
  }

  /** Stops taking samples and finishes the one in progress; the broker keeps the rest. */
  async beforeApplicationShutdown(): Promise<void> {
    this.accepting = false;
    await Promise.allSettled([...this.inFlight]);
  }

  private async ingest(link: MqttLink, topic: string, device: { siteId: string; deviceId: string }, payload: Buffer): Promise<void> {
    const started = performance.now();
    let sample: SampleRecord;
    try {
      sample = readSampleUpload({ ...device, channel: 'samples' }, payload, this.maxSampleBytes);
    } catch (error) {
      if (!(error instanceof InvalidSampleError)) throw error;
      await this.refuse(link, topic, device, payload, error);
      return;
    }
    // A repeat finds its image key taken and its row present: nothing is written.
    const key = `samples/${device.siteId}/${device.deviceId}/${sample.id}.${EXTENSIONS[sample.imageMediaType] ?? 'bin'}`;
    if (!(await this.blobs.exists(key))) await this.blobs.put(key, sample.image, sample.imageMediaType);
    const inserted = await this.samples.insertIfAbsent(sample, key);
    this.metrics.samplesIngested.inc({ outcome: inserted ? 'stored' : 'duplicate' });
    if (inserted) {
      this.metrics.ingestLagSeconds.observe(Math.max(0, (Date.now() - sample.capturedAt.getTime()) / 1000));
      this.log.debug({ ...device, sampleId: sample.id, priority: sample.priority, reason: sample.reason }, 'sample stored');
    }
    this.acknowledge(link, device, SampleAck.fromPartial({ sampleIds: [sample.id] }));
    this.metrics.ingestSeconds.observe((performance.now() - started) / 1000);
  }

  private async refuse(link: MqttLink, topic: string, device: { siteId: string; deviceId: string }, payload: Buffer, error: InvalidSampleError) {
    await this.samples.deadLetter({
      topic,
      ...device,
      ...(error.sampleId === undefined ? {} : { sampleId: error.sampleId }),
      reason: error.reason,
      detail: error.message,
      payload,
    });
    this.metrics.deadLetters.inc({ reason: error.reason });
    this.log.warn({ ...device, sampleId: error.sampleId, reason: error.reason, detail: error.message }, 'sample dead-lettered');
    if (error.sampleId !== undefined) {
      this.acknowledge(link, device, SampleAck.fromPartial({ rejected: [{ sampleId: error.sampleId, reason: `${error.reason}: ${error.message}` }] }));
    }
  }

  /**
   * Sends the SampleAck without waiting for the broker's PUBACK: that PUBACK
   * arrives on this connection, which takes no packet until this message's
   * handler is done. A lost SampleAck costs a repeat upload, nothing more.
   */
  private acknowledge(link: MqttLink, device: { siteId: string; deviceId: string }, ack: SampleAck): void {
    const topic = this.topics.forDevice(device.siteId, device.deviceId, 'acks');
    link.publish(topic, SampleAck.encode(ack).finish(), { qos: 1 }).catch((error: unknown) => {
      this.log.warn({ ...device, err: (error as Error).message }, 'SampleAck not sent; the device will upload again');
    });
  }
}
