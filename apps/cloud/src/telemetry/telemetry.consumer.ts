import type { MqttLink } from '@loupe/mqtt';
import type { DeviceTopic, DeviceTopics } from '@loupe/topics';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import type { DeviceService } from '../devices/device.service';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { InvalidTelemetryError, readTelemetry } from './telemetry-payload';

/**
 * Consumes every device's telemetry and keeps the device list current.
 * Telemetry is periodic, so a message lost in a crash is replaced by the
 * next one; the broker's ack needs no coordination with the database.
 */
export class TelemetryConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly inFlight = new Set<Promise<void>>();
  private accepting = true;
  private readonly log: Logger;

  constructor(
    private readonly link: MqttLink,
    private readonly topics: DeviceTopics,
    private readonly shareGroup: string,
    private readonly devices: DeviceService,
    private readonly metrics: CloudMetrics,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'telemetry-consumer' });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.link.onMessage((topic, payload) => {
      const parsed = this.topics.parse(topic);
      if (parsed?.channel !== 'telemetry' || !this.accepting) return;
      const work = this.consume(parsed, payload).finally(() => this.inFlight.delete(work));
      this.inFlight.add(work);
    });
    await this.link.subscribe(this.topics.allDevices('telemetry'), 1, { shareGroup: this.shareGroup });
  }

  /** Stops taking messages and lets those in progress finish. */
  async beforeApplicationShutdown(): Promise<void> {
    this.accepting = false;
    await Promise.allSettled([...this.inFlight]);
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
