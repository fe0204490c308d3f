import type { MqttLink } from '@loupe/mqtt';
import type { DeviceTopics } from '@loupe/topics';
import { Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { DeviceModule } from '../devices/device.module';
import { DeviceService } from '../devices/device.service';
import { CLOUD_METRICS, LOGGER, MQTT_LINK, MQTT_SHARE_GROUP, TOPICS } from '../infrastructure.tokens';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { TelemetryConsumer } from './telemetry.consumer';

@Module({
  imports: [DeviceModule],
  providers: [
    {
      provide: TelemetryConsumer,
      useFactory: (
        link: MqttLink,
        topics: DeviceTopics,
        shareGroup: string,
        devices: DeviceService,
        metrics: CloudMetrics,
        logger: Logger,
      ) => new TelemetryConsumer(link, topics, shareGroup, devices, metrics, logger),
      inject: [MQTT_LINK, TOPICS, MQTT_SHARE_GROUP, DeviceService, CLOUD_METRICS, LOGGER],
    },
  ],
})
export class TelemetryModule {}
