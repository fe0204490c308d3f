import { deviceListResponseSchema, type DeviceListResponse } from '@loupe/api-contracts';
import { Controller, Get, Inject } from '@nestjs/common';
import { DeviceService } from './device.service';
import { Allow } from '../auth/roles';

@Controller('api/devices')
export class DeviceController {
  constructor(@Inject(DeviceService) private readonly devices: DeviceService) {}

  /** Every device the cloud has heard from, ordered by site and device id. */
  @Get()
  @Allow('engineer', 'admin')
  async list(): Promise<DeviceListResponse> {
    return deviceListResponseSchema.parse({ devices: await this.devices.list() });
  }
}
