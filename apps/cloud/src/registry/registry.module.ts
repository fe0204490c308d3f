import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ModelRegistry } from './model-registry';
import { ModelVersionRepository } from './model-version.repository';
import { ModelsController } from './models.controller';
import { PackageValidation } from './package-validation';
import { RegistryGrpcServer } from './registry-grpc.server';

@Module({
  imports: [AuthModule],
  controllers: [ModelsController],
  providers: [ModelVersionRepository, PackageValidation, ModelRegistry, RegistryGrpcServer],
  exports: [ModelRegistry, RegistryGrpcServer],
})
export class RegistryModule {}
