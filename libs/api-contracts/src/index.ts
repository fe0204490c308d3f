export { deviceListResponseSchema, deviceSchema, type DeviceDto, type DeviceListResponse } from './devices.dto';
export { apiErrorSchema, type ApiError } from './api-error.dto';
