import type { DeviceDto } from '@loupe/api-contracts';
import { byDeviceOrder, lastSeenAgo, modelLabel } from '@loupe/device-display';

/**
 * A device heard from within this window shows as online. Wide enough that
 * one late or lost telemetry message does not flicker the dot grey.
 */
export const ONLINE_WITHIN_MS = 30_000;

/** One line of the fleet table, ready to render. */
export interface FleetRow {
  /** Unique per device: device ids are only unique within a site. */
  key: string;
  site: string;
  device: string;
  agent: string;
  model: string;
  provider: string;
  lastSeen: string;
  online: boolean;
}

export function isOnline(lastSeenAt: Date, now: Date): boolean {
  return now.getTime() - lastSeenAt.getTime() <= ONLINE_WITHIN_MS;
}

/** The fleet as table rows, by site and then device. */
export function toFleetRows(devices: readonly DeviceDto[], now: Date): FleetRow[] {
  return [...devices].sort(byDeviceOrder).map((device) => {
    const lastSeenAt = new Date(device.lastSeenAt);
    return {
      key: `${device.siteId}/${device.deviceId}`,
      site: device.siteId,
      device: device.deviceId,
      agent: device.agentVersion,
      model: modelLabel(device),
      provider: device.provider ?? '-',
      lastSeen: lastSeenAgo(lastSeenAt, now),
      online: isOnline(lastSeenAt, now),
    };
  });
}
