import type { MqttLink } from '@loupe/mqtt';
import { InFlight } from '@loupe/service';
import type { DeviceChannel, DeviceTopic, DeviceTopics } from '@loupe/topics';

/**
 * One channel of every device (telemetry, reported, ...), each message handled
 * as it comes, concurrently. At shutdown it stops taking messages and lets
 * those in progress finish. For channels whose messages the device sends
 * again (periodic, or on every change), so the broker's ack needs no
 * coordination with the database.
 */
export class DeviceChannelSubscription {
  private readonly inFlight = new InFlight();

  constructor(
    private readonly link: MqttLink,
    private readonly topics: DeviceTopics,
    private readonly channel: DeviceChannel,
    private readonly handle: (topic: DeviceTopic, payload: Buffer) => Promise<void>,
  ) {}

  async start(shareGroup: string): Promise<void> {
    const filter = this.topics.allDevices(this.channel);
    this.link.onMessage(filter, (topic, payload) => {
      // The filter matches any site and device level; parsing keeps the ids that are ones.
      const parsed = this.topics.parse(topic);
      if (!parsed || !this.inFlight.accepting) return;
      void this.inFlight.track(this.handle(parsed, payload));
    });
    await this.link.subscribe(filter, 1, { shareGroup });
  }

  async drain(): Promise<void> {
    await this.inFlight.drain();
  }
}
