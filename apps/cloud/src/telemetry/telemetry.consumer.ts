import type { MqttLink } from '@loupe/mqtt';
import type { DeviceTopics } from '@loupe/topics';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { DeviceChannelSubscription } from '../devices/device-channel-subscription';
import type { DeviceReport, DeviceService } from '../devices/device.service';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { InvalidTelemetryError, readTelemetry } from './telemetry-payload';

/**
 * Consumes every device's telemetry and keeps the device list current.
 * Telemetry is periodic, so a message lost in a crash is replaced by the
 * next one; the broker's ack needs no coordination with the database.
 */
export class TelemetryConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly subscription: DeviceChannelSubscription<DeviceReport>;

  constructor(
    link: MqttLink,
    topics: DeviceTopics,
    private readonly shareGroup: string,
    devices: DeviceService,
    metrics: CloudMetrics,
    logger: Logger,
  ) {
    this.subscription = new DeviceChannelSubscription(link, topics, 'telemetry', {
      read: readTelemetry,
      record: (_topic, report) => devices.recordReport(report),
      isRefusal: (error) => error instanceof InvalidTelemetryError,
      outcomes: metrics.telemetryMessages,
      noun: 'telemetry',
      log: logger.child({ component: 'telemetry-consumer' }),
    });
  }

  onApplicationBootstrap(): Promise<void> {
    return this.subscription.start(this.shareGroup);
  }

  /** Stops taking messages and lets those in progress finish. */
  beforeApplicationShutdown(): Promise<void> {
    return this.subscription.drain();
  }
}
