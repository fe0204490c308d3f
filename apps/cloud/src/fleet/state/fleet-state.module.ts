import type { MqttLink } from '@loupe/mqtt';
import type { DeviceTopics } from '@loupe/topics';
import { Module } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Database } from '../../database/database';
import { CLOUD_METRICS, DATABASE, LOGGER, MQTT_LINK, MQTT_SHARE_GROUP, PUBLIC_URL, TOPICS } from '../../infrastructure.tokens';
import type { CloudMetrics } from '../../metrics/cloud-metrics';
import { ModelRegistry } from '../../registry/model-registry';
import { RegistryModule } from '../../registry/registry.module';
import { DesiredModels } from './desired-models';
import { DesiredStatePublisher } from './desired-state.publisher';
import { DeviceModelStates } from './device-model-states';
import { ReportedStateConsumer } from './reported-state.consumer';

/** What the cloud wants each device to run, what each says it runs, and the messages between them. */
@Module({
  imports: [RegistryModule],
  providers: [
    { provide: DeviceModelStates, useFactory: (db: Database) => new DeviceModelStates(db.db), inject: [DATABASE] },
    {
      provide: DesiredModels,
      useFactory: (registry: ModelRegistry, publicUrl: () => string) => new DesiredModels(registry, publicUrl),
      inject: [ModelRegistry, PUBLIC_URL],
    },
    {
      provide: DesiredStatePublisher,
      useFactory: (link: MqttLink, topics: DeviceTopics, metrics: CloudMetrics, logger: Logger) => new DesiredStatePublisher(link, topics, metrics, logger),
      inject: [MQTT_LINK, TOPICS, CLOUD_METRICS, LOGGER],
    },
    {
      provide: ReportedStateConsumer,
      useFactory: (link: MqttLink, topics: DeviceTopics, shareGroup: string, states: DeviceModelStates, metrics: CloudMetrics, logger: Logger) =>
        new ReportedStateConsumer(link, topics, shareGroup, states, metrics, logger),
      inject: [MQTT_LINK, TOPICS, MQTT_SHARE_GROUP, DeviceModelStates, CLOUD_METRICS, LOGGER],
    },
  ],
  exports: [DeviceModelStates, DesiredModels, DesiredStatePublisher],
})
export class FleetStateModule {}
