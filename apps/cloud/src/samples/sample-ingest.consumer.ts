import type { MqttLink } from '@loupe/mqtt';
import { InFlight } from '@loupe/service';
import type { DeviceTopics } from '@loupe/topics';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { Clock } from '../clock';
import type { CloudConfig } from '../config/cloud-config';
import { CLOUD_CONFIG, CLOUD_METRICS, INGEST_LINKS, LOGGER, MQTT_LINK, MQTT_SHARE_GROUP, TOPICS } from '../infrastructure.tokens';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { SampleAcks, type DeviceName } from './sample-acks';
import { SampleIngest } from './sample-ingest';
import { InvalidSampleError, readSampleUpload, type SampleLimits, type SampleRecord } from './sample-payload';

/**
 * Samples from the broker: reads and validates each message, hands the
 * sample to SampleIngest, and answers by its outcome: the SampleAck to the
 * device (stored, or refused by id), and only then the broker's PUBACK. A
 * crash anywhere before the end leaves the message unacknowledged, so it
 * comes again and finds its work done.
 *
 * What a message contains never costs the connection: a payload that can
 * never be stored is dead-lettered, acknowledged at the broker and refused
 * to its device by id, and the rest go on. Only a failure of the cloud's
 * own services fails the message, so the link reconnects and the broker
 * delivers it again.
 *
 * Each connection hands over many messages at once (see MqttLink.ackAfter),
 * and ingest stores them in groups. Replicas, and the extra connections of
 * one replica (INGEST_LINKS), split the samples through the share group.
 */
@Injectable()
export class SampleIngestConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly inFlight = new InFlight();
  private readonly acks: SampleAcks;
  private readonly limits: SampleLimits;
  private readonly log: Logger;

  constructor(
    @Inject(MQTT_LINK) private readonly link: MqttLink,
    @Inject(INGEST_LINKS) private readonly extraLinks: MqttLink[],
    @Inject(TOPICS) private readonly topics: DeviceTopics,
    @Inject(MQTT_SHARE_GROUP) private readonly shareGroup: string,
    @Inject(SampleIngest) private readonly samples: SampleIngest,
    @Inject(CLOUD_CONFIG) config: CloudConfig,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(CLOUD_METRICS) private readonly metrics: CloudMetrics,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'sample-ingest' });
    this.acks = new SampleAcks(link, topics, this.log);
    this.limits = { maxBytes: config.samples.maxSampleBytes, maxAgeMs: config.samples.maxSampleAgeMs };
  }

  async onApplicationBootstrap(): Promise<void> {
    const filter = this.topics.allDevices('samples');
    for (const each of [this.link, ...this.extraLinks]) each.ackAfter(filter, (topic, payload) => this.handle(topic, payload));
    await this.link.subscribe(filter, 1, { shareGroup: this.shareGroup });
    for (const extra of this.extraLinks) await extra.subscribe(filter, 1, { shareGroup: this.shareGroup, sharedOnly: true });
  }

  /** Stops taking samples and finishes those in progress; the broker keeps the rest. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.inFlight.drain();
    this.acks.flush();
  }

  /** On the samples channel, whatever its site and device levels hold: the link routes by the filter. */
  private handle(topic: string, payload: Buffer): Promise<void> {
    const parsed = this.topics.parse(topic);
    if (!this.inFlight.accepting) return Promise.reject(new Error('shutting down'));
    return this.inFlight.track(parsed ? this.ingest(topic, parsed, payload) : this.refuseTopic(topic, payload));
  }

  private async ingest(topic: string, device: DeviceName, payload: Buffer): Promise<void> {
    const started = performance.now();
    let sample: SampleRecord;
    try {
      sample = readSampleUpload({ ...device, channel: 'samples' }, payload, this.limits, this.clock.now().getTime());
    } catch (error) {
      // Whatever reading it ran into, the payload's bytes caused it.
      const refusal = error instanceof InvalidSampleError ? error : new InvalidSampleError('malformed', `could not be read: ${(error as Error).message}`);
      await this.refuse(topic, device, payload, { reason: refusal.reason, detail: refusal.message }, refusal.sampleId);
      return;
    }
    const outcome = await this.samples.ingest(sample);
    if (outcome.kind === 'refused') {
      await this.refuse(topic, device, payload, outcome, sample.id);
      return;
    }
    this.acks.stored(device, sample.id);
    this.metrics.ingestSeconds.observe((performance.now() - started) / 1000);
  }

  private async refuse(topic: string, device: DeviceName, payload: Buffer, refusal: { reason: string; detail: string }, sampleId: string | undefined) {
    await this.samples.deadLetter({ topic, ...device, ...(sampleId === undefined ? {} : { sampleId }), reason: refusal.reason, detail: refusal.detail, payload });
    if (sampleId !== undefined) this.acks.refused(device, sampleId, `${refusal.reason}: ${refusal.detail}`);
  }

  /** Published under a site or device id that is not one: kept for the operator, with no device to tell. */
  private async refuseTopic(topic: string, payload: Buffer): Promise<void> {
    const detail = "the topic's site and device levels must each be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit";
    await this.samples.deadLetter({ topic, reason: 'invalid_topic', detail, payload });
  }
}
