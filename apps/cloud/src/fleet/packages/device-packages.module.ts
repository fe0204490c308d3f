import { Module } from '@nestjs/common';
import { RegistryModule } from '../../registry/registry.module';
import { DevicePackagesController } from './device-packages.controller';

@Module({
  imports: [RegistryModule],
  controllers: [DevicePackagesController],
})
export class DevicePackagesModule {}
