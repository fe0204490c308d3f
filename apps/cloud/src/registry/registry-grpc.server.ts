import { DESCRIPTOR_SET_BASE64, ModelRegistryServiceService } from '@loupe/proto';
import { startGrpcServer, type GrpcServer } from '@loupe/service';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { AuthService } from '../auth/auth.service';
import type { CloudConfig } from '../config/cloud-config';
import { CLOUD_CONFIG, LOGGER } from '../infrastructure.tokens';
import { ModelRegistry } from './model-registry';
import { MODEL_REGISTRY_SERVICE_NAME, modelRegistryService } from './registry-grpc';

// The largest single message a client may send; a push comes in chunks below it.
const MAX_RECEIVE_BYTES = 4 * 1024 * 1024;

/**
 * Serves the ModelRegistry gRPC service (GRPC_HOST, GRPC_PORT) from the
 * application's bootstrap until its shutdown, when calls in progress get
 * SHUTDOWN_TIMEOUT to finish before they are cut.
 */
@Injectable()
export class RegistryGrpcServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private server: GrpcServer | undefined;

  constructor(
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(CLOUD_CONFIG) private readonly config: Pick<CloudConfig, 'grpc' | 'registry' | 'shutdownTimeoutMs'>,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** `host:port` it listens on, once the application has started. */
  get address(): string {
    if (!this.server) throw new Error('the registry gRPC server has not started');
    return this.server.address;
  }

  async onApplicationBootstrap(): Promise<void> {
    const implementation = modelRegistryService(this.registry, this.auth, this.config.registry.maxPackageBytes, this.logger.child({ component: 'registry' }));
    this.server = await startGrpcServer({
      ...this.config.grpc,
      portSetting: 'GRPC_PORT',
      maxReceiveBytes: MAX_RECEIVE_BYTES,
      services: [{ name: MODEL_REGISTRY_SERVICE_NAME, definition: ModelRegistryServiceService, implementation }],
      descriptorSetBase64: DESCRIPTOR_SET_BASE64,
      serving: true,
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.server?.stop(this.config.shutdownTimeoutMs);
  }
}
