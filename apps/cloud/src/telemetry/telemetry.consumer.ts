import type { MqttLink } from '@loupe/mqtt';
import type { DeviceTopic, DeviceTopics } from '@loupe/topics';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { DeviceChannelSubscription } from '../devices/device-channel-subscription';
import type { DeviceService } from '../devices/device.service';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { InvalidTelemetryError, readTelemetry } from './telemetry-payload';

/**
 * Consumes every device's telemetry and keeps the device list current.
 * Telemetry is periodic, so a message lost in a crash is replaced by the
 * next one; the broker's ack needs no coordination with the database.
 */
export class TelemetryConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly subscription: DeviceChannelSubscription;
  private readonly log: Logger;

  constructor(
    link: MqttLink,
    topics: DeviceTopics,
    private readonly shareGroup: string,
    private readonly devices: DeviceService,
    private readonly metrics: CloudMetrics,
    logger: Logger,
  ) {
    this.subscription = new DeviceChannelSubscription(link, topics, 'telemetry', (topic, payload) => this.consume(topic, payload));
    this.log = logger.child({ component: 'telemetry-consumer' });
  }

  onApplicationBootstrap(): Promise<void> {
    return this.subscription.start(this.shareGroup);
  }

  /** Stops taking messages and lets those in progress finish. */
  beforeApplicationShutdown(): Promise<void> {
    return this.subscription.drain();
  }

  private async consume(topic: DeviceTopic, payload: Buffer): Promise<void> {
    const context = { siteId: topic.siteId, deviceId: topic.deviceId };
    try {
      await this.devices.recordReport(readTelemetry(topic, payload));
      this.metrics.telemetryMessages.inc({ outcome: 'recorded' });
    } catch (error) {
      if (error instanceof InvalidTelemetryError) {
        this.metrics.telemetryMessages.inc({ outcome: 'rejected' });
        this.log.warn({ ...context, reason: error.message }, 'telemetry rejected');
      } else {
        this.metrics.telemetryMessages.inc({ outcome: 'failed' });
        this.log.error({ ...context, err: (error as Error).message }, 'telemetry could not be recorded');
      }
    }
  }
}
