import type { MqttLink } from '@loupe/mqtt';
import type { DeviceTopics } from '@loupe/topics';
import { type DynamicModule, Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Kysely } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { BlobStore } from './blobs/blob-store';
import { AuthModule } from './auth/auth.module';
import type { CloudConfig } from './config/cloud-config';
import { Clock } from './clock';
import type { Database } from './database/database';
import { DeviceModule } from './fleet/devices/device.module';
import { HealthModule } from './health/health.module';
import { OpenApiController } from './http/openapi.controller';
import { RouteTable } from './http/route-table';
import { LabelingModule } from './labeling/labeling.module';
import {
  BLOB_STORE,
  CLOUD_CONFIG,
  CLOUD_METRICS,
  DATABASE,
  LOGGER,
  MQTT_LINK,
  INGEST_LINKS,
  MQTT_SHARE_GROUP,
  LABELING_SETTINGS,
  PUBLIC_URL,
  REGISTRY_KEYS,
  TOPICS,
} from './infrastructure.tokens';
import type { CloudMetrics } from './metrics/cloud-metrics';
import { MetricsController } from './metrics/metrics.controller';
import { FleetStateModule } from './fleet/state/fleet-state.module';
import type { ServiceAccount } from './fleet/identity/broker-access';
import { DeviceCredentials } from './fleet/identity/device-credentials';
import { DeviceIdentityModule } from './fleet/identity/device-identity.module';
import { IdentityMetrics } from './fleet/identity/identity-metrics';
import type { BrokerAccounts } from './fleet/identity/enrollment.service';
import { BROKER_ACCOUNTS, BROKER_SERVICE_ACCOUNT } from './fleet/identity/identity.tokens';
import { DevicePackagesModule } from './fleet/packages/device-packages.module';
import { RegistryModule } from './registry/registry.module';
import { RolloutsModule } from './rollouts/rollouts.module';
import type { RegistryKeys } from './registry/registry-keys';
import { SamplesModule } from './samples/samples.module';
import { PromotionModule } from './training/promotion.module';
import { TelemetryModule } from './fleet/telemetry/telemetry.module';
import { TrainingModule } from './training/training.module';

/** The validated settings, and the connections and shared objects that cloud-runtime.ts opens for the app. */
export interface Infrastructure {
  config: CloudConfig;
  database: Database;
  link: MqttLink;
  /** More connections for sample ingest, in the same share group. */
  ingestLinks: MqttLink[];
  topics: DeviceTopics;
  blobs: BlobStore;
  registryKeys: RegistryKeys;
  /** The URL devices reach this cloud at; known once HTTP listens. */
  publicUrl: () => string;
  /**
   * Device credentials, shared with the embedded broker; the configured
   * broker account, if any; the broker's own device accounts, when it keeps them.
   */
  identity: { credentials: DeviceCredentials; metrics: IdentityMetrics; serviceAccount?: ServiceAccount; brokerAccounts?: BrokerAccounts };
  metrics: CloudMetrics;
  clock: Clock;
  logger: Logger;
}

/**
 * Hands what the composition root opened to every feature, each under one
 * token: a class where there is one (Kysely and pg.Pool for repositories),
 * a symbol (infrastructure.tokens.ts) otherwise.
 */
@Global()
@Module({})
class InfrastructureModule {
  static register(infrastructure: Infrastructure): DynamicModule {
    const { config, database } = infrastructure;
    const providers = [
      { provide: CLOUD_CONFIG, useValue: config },
      { provide: DATABASE, useValue: database },
      { provide: Kysely, useValue: database.db },
      { provide: pg.Pool, useValue: database.pool },
      { provide: MQTT_LINK, useValue: infrastructure.link },
      { provide: INGEST_LINKS, useValue: infrastructure.ingestLinks },
      { provide: TOPICS, useValue: infrastructure.topics },
      { provide: MQTT_SHARE_GROUP, useValue: config.mqtt.shareGroup },
      { provide: BLOB_STORE, useValue: infrastructure.blobs },
      { provide: LABELING_SETTINGS, useValue: config.labeling },
      { provide: REGISTRY_KEYS, useValue: infrastructure.registryKeys },
      { provide: PUBLIC_URL, useValue: infrastructure.publicUrl },
      { provide: DeviceCredentials, useValue: infrastructure.identity.credentials },
      { provide: IdentityMetrics, useValue: infrastructure.identity.metrics },
      { provide: BROKER_SERVICE_ACCOUNT, useValue: infrastructure.identity.serviceAccount ?? null },
      { provide: BROKER_ACCOUNTS, useValue: infrastructure.identity.brokerAccounts ?? null },
      { provide: CLOUD_METRICS, useValue: infrastructure.metrics },
      { provide: Clock, useValue: infrastructure.clock },
      { provide: LOGGER, useValue: infrastructure.logger },
    ];
    return { module: InfrastructureModule, providers, exports: providers.map((provider) => provider.provide) };
  }
}

@Module({})
export class AppModule {
  static register(infrastructure: Infrastructure): DynamicModule {
    return {
      module: AppModule,
      imports: [
        InfrastructureModule.register(infrastructure),
        DiscoveryModule,
        AuthModule,
        DeviceModule,
        TelemetryModule,
        SamplesModule,
        LabelingModule,
        RegistryModule,
        FleetStateModule,
        DeviceIdentityModule,
        DevicePackagesModule,
        RolloutsModule,
        PromotionModule,
        TrainingModule,
        HealthModule,
      ],
      controllers: [MetricsController, OpenApiController],
      providers: [RouteTable],
      exports: [RouteTable],
    };
  }
}
