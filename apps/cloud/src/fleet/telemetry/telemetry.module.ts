import { Module } from '@nestjs/common';
import { DeviceModule } from '../devices/device.module';
import { TelemetryConsumer } from './telemetry.consumer';

@Module({
  imports: [DeviceModule],
  providers: [TelemetryConsumer],
})
export class TelemetryModule {}
