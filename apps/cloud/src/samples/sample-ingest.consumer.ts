import type { MqttLink } from '@loupe/mqtt';
import { SampleAck } from '@loupe/proto';
import type { DeviceTopics } from '@loupe/topics';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { InvalidSampleError, readSampleUpload, type SampleRecord } from './sample-payload';
import type { SampleBatchWriter } from './sample-batch-writer';
import type { SampleRepository } from './sample.repository';

interface DeviceName {
  siteId: string;
  deviceId: string;
}

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
 * Each connection hands over many messages at once (see MqttLink.ackAfter),
 * and the SampleBatchWriter stores them in groups. Replicas, and the extra
 * connections of one replica (`extraLinks`), split the samples through the
 * share group.
 */
export class SampleIngestConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private accepting = true;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly pendingAcks = new Map<string, { device: DeviceName; sampleIds: string[] }>();
  private acksScheduled = false;
  private readonly log: Logger;

  constructor(
    private readonly link: MqttLink,
    private readonly extraLinks: MqttLink[],
    private readonly topics: DeviceTopics,
    private readonly shareGroup: string,
    private readonly samples: SampleRepository,
    private readonly writer: SampleBatchWriter,
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
        const work = this.ingest(topic, parsed, payload).finally(() => this.inFlight.delete(work));
        this.inFlight.add(work);
        return work;
      });
    }
    await this.link.subscribe(filter, 1, { shareGroup: this.shareGroup });
    for (const link of this.extraLinks) await link.subscribe(filter, 1, { shareGroup: this.shareGroup, sharedOnly: true });
  }

  /** Stops taking samples and finishes those in progress; the broker keeps the rest. */
  async beforeApplicationShutdown(): Promise<void> {
    this.accepting = false;
    await Promise.allSettled([...this.inFlight]);
    this.sendPendingAcks();
  }

  private async ingest(topic: string, device: DeviceName, payload: Buffer): Promise<void> {
    const started = performance.now();
    let sample: SampleRecord;
    try {
      sample = readSampleUpload({ ...device, channel: 'samples' }, payload, this.maxSampleBytes);
    } catch (error) {
      if (!(error instanceof InvalidSampleError)) throw error;
      await this.refuse(topic, device, payload, error);
      return;
    }
    const key = `samples/${device.siteId}/${device.deviceId}/${sample.id}.${EXTENSIONS[sample.imageMediaType] ?? 'bin'}`;
    const inserted = await this.writer.store(sample, key);
    this.metrics.samplesIngested.inc({ outcome: inserted ? 'stored' : 'duplicate' });
    if (inserted) {
      this.metrics.ingestLagSeconds.observe(Math.max(0, (Date.now() - sample.capturedAt.getTime()) / 1000));
      this.log.debug({ ...device, sampleId: sample.id, priority: sample.priority, reason: sample.reason }, 'sample stored');
    }
    this.acknowledge(device, sample.id);
    this.metrics.ingestSeconds.observe((performance.now() - started) / 1000);
  }

  private async refuse(topic: string, device: DeviceName, payload: Buffer, error: InvalidSampleError) {
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
      this.send(device, SampleAck.fromPartial({ rejected: [{ sampleId: error.sampleId, reason: `${error.reason}: ${error.message}` }] }));
    }
  }

  /**
   * Acknowledges a stored sample to its device. The samples of a group are
   * stored together, so their acks are gathered until the next turn of the
   * event loop and sent as one SampleAck per device.
   */
  private acknowledge(device: DeviceName, sampleId: string): void {
    const name = `${device.siteId}/${device.deviceId}`;
    const pending = this.pendingAcks.get(name);
    if (pending) pending.sampleIds.push(sampleId);
    else this.pendingAcks.set(name, { device, sampleIds: [sampleId] });
    if (this.acksScheduled) return;
    this.acksScheduled = true;
    setImmediate(() => this.sendPendingAcks());
  }

  private sendPendingAcks(): void {
    this.acksScheduled = false;
    for (const { device, sampleIds } of this.pendingAcks.values()) this.send(device, SampleAck.fromPartial({ sampleIds }));
    this.pendingAcks.clear();
  }

  /**
   * Sends a SampleAck without waiting for the broker's PUBACK, which could
   * wait behind the messages this connection is handling. A lost SampleAck
   * costs a repeat upload, nothing more.
   */
  private send(device: DeviceName, ack: SampleAck): void {
    const topic = this.topics.forDevice(device.siteId, device.deviceId, 'acks');
    this.link.publish(topic, SampleAck.encode(ack).finish(), { qos: 1 }).catch((error: unknown) => {
      this.log.warn({ ...device, err: (error as Error).message }, 'SampleAck not sent; the device will upload again');
    });
  }
}
