import type { MqttLink } from '@loupe/mqtt';
import { SampleAck } from '@loupe/proto';
import type { Logger } from 'pino';
import type { SampleOutbox } from './sample-outbox';

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
}

/** Outbox files read at once while the window fills. */
const READ_AHEAD = 16;

export interface UplinkEvents {
  published(bytes: number): void;
  acknowledged(count: number): void;
  rejected(reason: string): void;
  resent(reason: 'ack_timeout' | 'link_lost' | 'publish_failed'): void;
}

/**
 * Moves samples from the outbox to the cloud over MQTT (QoS 1) and deletes
 * each only when the cloud's SampleAck names it: a broker's PUBACK says the
 * broker has it, not that the image and row are stored. The MQTT client is
 * transport only; anything unacknowledged goes back into the outbox's line
 * after a timeout or a lost connection and is published again.
 */
export class SampleUplink {
  /** Samples on their way: bytes, and when the cloud's ack is due (unset until the broker has the sample). */
  private readonly inFlight = new Map<string, { bytes: number; ackDueAt: number }>();
  private inFlightBytes = 0;
  private stopped = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
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
  }

  async start(): Promise<void> {
    this.link.onMessage((topic, payload) => {
      if (topic === this.topics.acks) void this.onAck(payload);
    });
    this.link.on('disconnected', this.onDisconnected);
    this.link.on('connected', this.onConnected);
    await this.link.subscribe(this.topics.acks, 1);
    this.timer = setInterval(() => this.resendOverdue(), Math.max(100, Math.min(1_000, this.settings.ackTimeoutMs / 4)));
    this.loop = this.pump();
  }

  /** Something new may be waiting in the outbox. */
  notify(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.link.off('disconnected', this.onDisconnected);
    this.link.off('connected', this.onConnected);
    this.notify();
    await this.loop;
  }

  private async pump(): Promise<void> {
    while (!this.stopped) {
      const room = this.room();
      if (!this.link.connected || room.count === 0) {
        await this.sleep(1_000);
        continue;
      }
      const taken = await this.outbox.take(Math.min(room.count, READ_AHEAD), room.bytes);
      if (taken.length === 0) {
        await this.sleep(1_000);
        continue;
      }
      for (const { sample, payload } of taken) {
        await this.throttle(payload.byteLength);
        this.send(sample.id, payload);
      }
    }
  }

  /** What the window has room for; none once either bound is reached (the sample that crosses one still goes). */
  private room(): { count: number; bytes: number } {
    const bytes = this.settings.windowBytes - this.inFlightBytes;
    return { count: bytes > 0 ? Math.max(0, this.settings.window - this.inFlight.size) : 0, bytes };
  }

  /** Publishes without waiting for the PUBACK, so the whole window is on the wire at once. */
  private send(id: string, payload: Buffer): void {
    this.inFlight.set(id, { bytes: payload.byteLength, ackDueAt: Number.POSITIVE_INFINITY });
    this.inFlightBytes += payload.byteLength;
    this.link.publish(this.topics.samples, payload, { qos: 1 }).then(
      () => {
        const sent = this.inFlight.get(id);
        if (sent) sent.ackDueAt = performance.now() + this.settings.ackTimeoutMs;
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

  /** Takes a sample out of the window; false if it was not in it. */
  private forget(id: string): boolean {
    const sent = this.inFlight.get(id);
    if (!sent) return false;
    this.inFlight.delete(id);
    this.inFlightBytes -= sent.bytes;
    return true;
  }

  private async onAck(payload: Buffer): Promise<void> {
    let ack: SampleAck;
    try {
      ack = SampleAck.decode(payload);
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'ignoring an unreadable SampleAck');
      return;
    }
    const rejected = ack.rejected.map((entry) => entry.sampleId);
    for (const entry of ack.rejected) {
      this.log.warn({ sampleId: entry.sampleId, reason: entry.reason }, 'cloud refused a sample for good; dropping it');
      this.events.rejected(entry.reason);
    }
    const ids = [...ack.sampleIds, ...rejected];
    for (const id of ids) this.forget(id);
    // The window has room again before the files are gone from disk.
    const removing = this.outbox.remove(ids);
    this.notify();
    this.events.acknowledged(await removing);
  }

  private resendOverdue(): void {
    const now = performance.now();
    for (const [id, { ackDueAt }] of this.inFlight) {
      if (ackDueAt > now) continue;
      this.forget(id);
      this.outbox.release(id);
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
    this.inFlightBytes = 0;
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

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
