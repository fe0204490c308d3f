import type { MqttLink } from '@loupe/mqtt';
import { InFlight } from '@loupe/service';
import type { DeviceChannel, DeviceTopic, DeviceTopics } from '@loupe/topics';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';

/** What one channel's consumer does with a message, and how its outcomes are counted and logged. */
export interface DeviceChannelHandler<Message> {
  /** Reads the payload; throws a refusal (see `isRefusal`) for what the device sent wrong. */
  read(topic: DeviceTopic, payload: Buffer): Message;
  record(topic: DeviceTopic, message: Message): Promise<void>;
  isRefusal(error: unknown): boolean;
  /** Counts each message by outcome: recorded, rejected (the device's fault) or failed (the cloud's). */
  outcomes: Counter<'outcome'>;
  /** What the log calls a message: "telemetry", "reported state". */
  noun: string;
  log: Logger;
}

/**
 * One channel of every device (telemetry, reported, ...), each message handled
 * as it comes, concurrently. At shutdown it stops taking messages and lets
 * those in progress finish. For channels whose messages the device sends
 * again (periodic, or on every change), so the broker's ack needs no
 * coordination with the database, and a message that cannot be recorded is
 * counted and logged, not retried.
 */
export class DeviceChannelSubscription<Message> {
  private readonly inFlight = new InFlight();

  constructor(
    private readonly link: MqttLink,
    private readonly topics: DeviceTopics,
    private readonly channel: DeviceChannel,
    private readonly handler: DeviceChannelHandler<Message>,
  ) {}

  async start(shareGroup: string): Promise<void> {
    const filter = this.topics.allDevices(this.channel);
    this.link.onMessage(filter, (topic, payload) => {
      // The filter matches any site and device level; parsing keeps the ids that are ones.
      const parsed = this.topics.parse(topic);
      if (!parsed || !this.inFlight.accepting) return;
      void this.inFlight.track(this.consume(parsed, payload));
    });
    await this.link.subscribe(filter, 1, { shareGroup });
  }

  async drain(): Promise<void> {
    await this.inFlight.drain();
  }

  private async consume(topic: DeviceTopic, payload: Buffer): Promise<void> {
    const { handler } = this;
    const device = { siteId: topic.siteId, deviceId: topic.deviceId };
    try {
      await handler.record(topic, handler.read(topic, payload));
      handler.outcomes.inc({ outcome: 'recorded' });
    } catch (error) {
      if (handler.isRefusal(error)) {
        handler.outcomes.inc({ outcome: 'rejected' });
        handler.log.warn({ ...device, reason: (error as Error).message }, `${handler.noun} rejected`);
      } else {
        handler.outcomes.inc({ outcome: 'failed' });
        handler.log.error({ ...device, err: (error as Error).message }, `${handler.noun} could not be recorded`);
      }
    }
  }
}
