import type { DeviceDto } from '@loupe/api-contracts';

/**
 * Site, then device, in code-point order rather than a locale's, so the same
 * fleet lists the same way in every terminal and browser.
 */
export function byDeviceOrder(a: DeviceDto, b: DeviceDto): number {
  return compareText(a.siteId, b.siteId) || compareText(a.deviceId, b.deviceId);
}

function compareText(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** `pcb-aoi@3`, or `-` before the device runs a model. */
export function modelLabel(device: DeviceDto): string {
  return device.model === null ? '-' : `${device.model.name}@${device.model.version}`;
}
