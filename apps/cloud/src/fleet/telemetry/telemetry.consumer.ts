import type { MqttLink } from '@loupe/mqtt';
import type { DeviceTopics } from '@loupe/topics';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { DeviceChannelSubscription } from '../devices/device-channel-subscription';
import { DeviceService, type DeviceReport } from '../devices/device.service';
import { CLOUD_METRICS, LOGGER, MQTT_LINK, MQTT_SHARE_GROUP, TOPICS } from '../../infrastructure.tokens';
import type { CloudMetrics } from '../../metrics/cloud-metrics';
import { InvalidTelemetryError, readTelemetry } from './telemetry-payload';

/**
 * Consumes every device's telemetry and keeps the device list current.
 * Telemetry is periodic, so a message lost in a crash is replaced by the
 * next one; the broker's ack needs no coordination with the database.
 */
@Injectable()
export class TelemetryConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly subscription: DeviceChannelSubscription<DeviceReport>;

  constructor(
    @Inject(MQTT_LINK) link: MqttLink,
    @Inject(TOPICS) topics: DeviceTopics,
    @Inject(MQTT_SHARE_GROUP) private readonly shareGroup: string,
    @Inject(DeviceService) devices: DeviceService,
    @Inject(CLOUD_METRICS) metrics: CloudMetrics,
    @Inject(LOGGER) logger: Logger,
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
