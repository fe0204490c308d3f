import { deviceListQuerySchema, deviceListResponseSchema, type DeviceListResponse } from '@loupe/api-contracts';
import { Controller, Get, Inject, Query } from '@nestjs/common';
import { Allow } from '../../auth/roles';
import { ApiRoute, parseBody } from '../../http/api-route';
import { DeviceService } from './device.service';

@Controller('api/fleet/devices')
export class DeviceController {
  constructor(@Inject(DeviceService) private readonly devices: DeviceService) {}

  @Get()
  @Allow('engineer', 'admin')
  @ApiRoute({
    summary:
      'Every device the cloud has enrolled or heard from, by site and device id: its fleet group, its last telemetry, the model the cloud ' +
      'wants it to run, what it reports running, and the statistics of its model. Query: group (only the devices enrolled in it).',
    response: deviceListResponseSchema,
  })
  async list(@Query() query: unknown): Promise<DeviceListResponse> {
    const { group } = parseBody(deviceListQuerySchema, query);
    return deviceListResponseSchema.parse({ devices: await this.devices.list(group || undefined) });
  }
}
