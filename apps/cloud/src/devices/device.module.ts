import { Module } from '@nestjs/common';
import { Clock } from '../clock';
import { DATABASE } from '../infrastructure.tokens';
import type { Database } from '../database/database';
import { DeviceController } from './device.controller';
import { DeviceRepository, PostgresDeviceRepository } from './device.repository';
import { DeviceService } from './device.service';

@Module({
  controllers: [DeviceController],
  providers: [
    { provide: DeviceRepository, useFactory: (db: Database) => new PostgresDeviceRepository(db.db), inject: [DATABASE] },
    {
      provide: DeviceService,
      useFactory: (devices: DeviceRepository, clock: Clock) => new DeviceService(devices, clock),
      inject: [DeviceRepository, Clock],
    },
  ],
  exports: [DeviceService],
})
export class DeviceModule {}
