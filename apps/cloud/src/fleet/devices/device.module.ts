import { Module } from '@nestjs/common';
import { DeviceController } from './device.controller';
import { DeviceRepository, PostgresDeviceRepository } from './device.repository';
import { DeviceService } from './device.service';

/** Every device the cloud knows, as one read model: `GET /api/fleet/devices`, and the telemetry that keeps it current. */
@Module({
  controllers: [DeviceController],
  providers: [{ provide: DeviceRepository, useClass: PostgresDeviceRepository }, DeviceService],
  exports: [DeviceService],
})
export class DeviceModule {}
