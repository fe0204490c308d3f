import type { MqttLink } from '@loupe/mqtt';
import { SampleAck, SampleUpload } from '@loupe/proto';
import { WakeableLoop } from '@loupe/service';
import type { Logger } from 'pino';
import type { SampleOutbox, StoredSample } from './sample-outbox';

export interface UplinkSettings {
  /** Samples published and not yet acknowledged by the cloud, at most. */
  window: number;
  /** Bytes of those samples, at most (one sample always fits). */
  windowBytes: number;
  /**
   * A sample the cloud has not acknowledged this long after the broker took
   * it is sent again. Timed from the broker's PUBACK, so a slow link does not
   * count against the cloud.
   */
  ackTimeoutMs: number;
  /** Optional cap on image upload bandwidth; 0 means none. */
  bytesPerSecond: number;
  /** Counted delivery attempts after which a sample is quarantined instead of sent again (see countsAsAttempt). */
  maxAttempts: number;
}

/** Outbox files read at once while the window fills. */
const READ_AHEAD = 16;
/** How long the pump sleeps with nothing to send or no room, unless woken first. */
const IDLE_MS = 1_000;

export interface UplinkEvents {
  published(bytes: number): void;
  acknowledged(count: number): void;
  resent(reason: 'ack_timeout' | 'link_lost' | 'publish_failed'): void;
}

/**
 * Why an outbox entry cannot be sent, or undefined when it can: it must
 * decode as a SampleUpload of the very sample its file is named for. Such
 * an entry would be refused (or worse) by the cloud at every try.
 */
export function whyUnsendable(sample: StoredSample, payload: Uint8Array): string | undefined {
  let upload: SampleUpload;
  try {
    upload = SampleUpload.decode(payload);
  } catch (error) {
    return `not a SampleUpload: ${(error as Error).message}`;
  }
  if (upload.sampleId !== sample.id) return `a SampleUpload of sample ${JSON.stringify(upload.sampleId.slice(0, 64))}, not of ${sample.id}`;
  return undefined;
}

/**
 * Whether an ack timeout counts as a delivery attempt: only when the cloud
 * acknowledged something after this sample reached the broker. The cloud
 * was then alive and answering, yet not for this sample, which is what a
 * sample it cannot take looks like. A silent cloud (down, or cut off) says
 * nothing about the sample, and an outage must never use up the attempts
 * of good samples. A lost link or a failed publish never counts: the cloud
 * had no chance to see the sample.
 */
export function countsAsAttempt(brokerAckedAt: number, lastCloudAckAt: number): boolean {
  return lastCloudAckAt > brokerAckedAt;
}

/**
 * Moves samples from the outbox to the cloud over MQTT (QoS 1) and deletes
 * each only when the cloud's SampleAck names it as stored: a broker's PUBACK
 * says the broker has it, not that the image and row are stored. The MQTT
 * client is transport only; anything unacknowledged goes back into the
 * outbox's line after a timeout or a lost connection and is published
 * again. An entry that is not a SampleUpload of its sample, one the cloud
 * refuses, and one that used up its attempts are quarantined by the outbox
 * instead, so no sample is resent forever while the cloud is answering.
 */
export class SampleUplink {
  /**
   * Samples published and not yet settled: when the broker took each
   * (infinite until it has) and when the cloud's ack is due. The window
   * they count against is the outbox's.
   */
  private readonly inFlight = new Map<string, { sample: StoredSample; brokerAckedAt: number; ackDueAt: number }>();
  /** When the cloud last acknowledged or refused a sample. */
  private lastCloudAckAt = Number.NEGATIVE_INFINITY;
  private readonly pump: WakeableLoop;
  private timer: NodeJS.Timeout | undefined;
  private allowance: number;
  private allowanceAt = performance.now();
  private readonly log: Logger;
  private readonly onDisconnected = () => this.releaseAll();
  private readonly onConnected = () => this.notify();

  constructor(
    private readonly link: MqttLink,
    private readonly outbox: SampleOutbox,
    private readonly topics: { samples: string; acks: string },
    private readonly settings: UplinkSettings,
    private readonly events: UplinkEvents,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'sample-uplink' });
    this.allowance = settings.bytesPerSecond;
    this.pump = new WakeableLoop(() => this.pumpOnce(), {
      onError: (error) => this.log.error({ err: (error as Error).message }, 'sample uplink failed to send; trying again'),
      retryAfterErrorMs: IDLE_MS,
    });
  }

  async start(): Promise<void> {
    this.link.onMessage(this.topics.acks, (_topic, payload) => void this.onAck(payload));
    this.link.on('disconnected', this.onDisconnected);
    this.link.on('connected', this.onConnected);
    await this.link.subscribe(this.topics.acks, 1);
    this.timer = setInterval(() => this.resendOverdue(), Math.max(100, Math.min(1_000, this.settings.ackTimeoutMs / 4)));
    this.pump.start();
  }

  /** Something new may be waiting in the outbox. */
  notify(): void {
    this.pump.wake();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.link.off('disconnected', this.onDisconnected);
    this.link.off('connected', this.onConnected);
    await this.pump.stop();
  }

  /** Sends what the window has room for; how long to sleep after (unless woken). */
  private async pumpOnce(): Promise<number> {
    if (!this.link.connected) return IDLE_MS;
    const taken = await this.outbox.takeWithinWindow({ count: this.settings.window, bytes: this.settings.windowBytes }, READ_AHEAD);
    if (taken.length === 0) return IDLE_MS;
    for (const { sample, payload } of taken) {
      const unsendable = whyUnsendable(sample, payload);
      if (unsendable !== undefined) {
        await this.outbox.quarantine(sample.id, 'undecodable', unsendable);
        continue;
      }
      await this.throttle(payload.byteLength);
      this.send(sample, payload);
    }
    return 0;
  }

  /** Publishes without waiting for the PUBACK, so the whole window is on the wire at once. */
  private send(sample: StoredSample, payload: Buffer): void {
    const { id } = sample;
    this.inFlight.set(id, { sample, brokerAckedAt: Number.POSITIVE_INFINITY, ackDueAt: Number.POSITIVE_INFINITY });
    this.link.publish(this.topics.samples, payload, { qos: 1 }).then(
      () => {
        const sent = this.inFlight.get(id);
        if (sent) {
          sent.brokerAckedAt = performance.now();
          sent.ackDueAt = sent.brokerAckedAt + this.settings.ackTimeoutMs;
        }
        this.events.published(payload.byteLength);
      },
      (error: unknown) => {
        this.log.debug({ sampleId: id, err: (error as Error).message }, 'sample publish failed; it stays in the outbox');
        if (this.forget(id)) {
          this.outbox.release(id);
          this.events.resent('publish_failed');
        }
        this.notify();
      },
    );
  }

  /** Stops waiting for a sample's ack; false if it was not awaited. */
  private forget(id: string): boolean {
    return this.inFlight.delete(id);
  }

  private async onAck(payload: Buffer): Promise<void> {
    let ack: SampleAck;
    try {
      ack = SampleAck.decode(payload);
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'ignoring an unreadable SampleAck');
      return;
    }
    if (ack.sampleIds.length + ack.rejected.length > 0) this.lastCloudAckAt = performance.now();
    for (const id of ack.sampleIds) this.forget(id);
    for (const entry of ack.rejected) this.forget(entry.sampleId);
    // The window has room again before the files are gone from disk.
    const removing = this.outbox.remove(ack.sampleIds);
    const quarantining = ack.rejected.map((entry) => this.outbox.quarantine(entry.sampleId, 'rejected', `the cloud refused it: ${entry.reason.slice(0, 200)}`));
    this.notify();
    this.events.acknowledged(await removing);
    await Promise.all(quarantining);
  }

  private resendOverdue(): void {
    const now = performance.now();
    for (const [id, { sample, brokerAckedAt, ackDueAt }] of this.inFlight) {
      if (ackDueAt > now) continue;
      this.forget(id);
      const attempted = countsAsAttempt(brokerAckedAt, this.lastCloudAckAt);
      if (attempted && sample.attempts + 1 >= this.settings.maxAttempts) {
        void this.outbox.quarantine(id, 'attempts', `not acknowledged after ${sample.attempts + 1} attempts while the cloud acknowledged others`);
        continue;
      }
      this.outbox.release(id, attempted);
      this.events.resent('ack_timeout');
    }
    this.notify();
  }

  private releaseAll(): void {
    for (const id of this.inFlight.keys()) {
      this.outbox.release(id);
      this.events.resent('link_lost');
    }
    this.inFlight.clear();
  }

  /** A token bucket holding at most one second of bandwidth. */
  private async throttle(bytes: number): Promise<void> {
    const rate = this.settings.bytesPerSecond;
    if (rate <= 0) return;
    const now = performance.now();
    this.allowance = Math.min(rate, this.allowance + ((now - this.allowanceAt) / 1000) * rate);
    this.allowanceAt = now;
    this.allowance -= bytes;
    if (this.allowance < 0) await new Promise((resolve) => setTimeout(resolve, (-this.allowance / rate) * 1000));
  }
}
