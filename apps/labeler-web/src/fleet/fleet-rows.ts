import type { DeviceDto } from '@loupe/api-contracts';
import { byDeviceOrder, lastSeenAgo, modelLabel } from '@loupe/device-display';

/**
 * A device heard from within this window shows as online. Wide enough that
 * one late or lost telemetry message does not flicker the dot grey.
 */
export const ONLINE_WITHIN_MS = 30_000;

/** What the Fleet page shows: every device, with its telemetry and, once enrolled, its model update. */
export type Fleet = readonly DeviceDto[];

/**
 * Whether the model a device runs is the one the cloud wants it to run,
 * by the hash of the ONNX file it actually loaded.
 */
export type RunningCheck = 'matches' | 'differs' | 'unreported' | 'nothing-desired';

/** A device's model update, as the cloud wants it and as the device reports it. */
export interface OtaCells {
  group: string;
  revoked: boolean;
  desired: string;
  /** The rollout that asked for the desired version; null when none did. */
  rolloutId: string | null;
  status: string;
  active: string;
  previous: string;
  error: string;
  running: RunningCheck;
}

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
  /** Null for a device that sends telemetry but is not enrolled: nothing updates its model. */
  ota: OtaCells | null;
}

export function isOnline(lastSeenAt: Date, now: Date): boolean {
  return now.getTime() - lastSeenAt.getTime() <= ONLINE_WITHIN_MS;
}

/** The fleet as table rows, by site and then device. */
export function toFleetRows(fleet: Fleet, now: Date): FleetRow[] {
  return [...fleet].sort(byDeviceOrder).map((device) => {
    const { lastSeenAt } = device;
    return {
      key: `${device.siteId}/${device.deviceId}`,
      site: device.siteId,
      device: device.deviceId,
      agent: device.agentVersion ?? '-',
      model: modelLabel(device),
      provider: device.provider ?? (device.reported?.provider || '-'),
      lastSeen: lastSeenAt === null ? 'never' : lastSeenAgo(new Date(lastSeenAt), now),
      online: lastSeenAt !== null && isOnline(new Date(lastSeenAt), now),
      ota: device.fleetGroup === null ? null : otaCells(device, device.fleetGroup),
    };
  });
}

function otaCells({ revoked, desired, reported }: DeviceDto, group: string): OtaCells {
  return {
    group,
    revoked,
    desired: desired ? refLabel(desired.model) : '-',
    rolloutId: desired?.rolloutId || null,
    status: reported?.status ?? 'not reported',
    active: refLabel(reported?.active ?? null),
    previous: refLabel(reported?.previous ?? null),
    error: reported?.error || '-',
    running: runningCheck(desired?.model.sha256, reported?.runningSha256),
  };
}

export function runningCheck(desiredSha256: string | undefined, runningSha256: string | undefined): RunningCheck {
  if (!desiredSha256) return 'nothing-desired';
  if (!runningSha256) return 'unreported';
  return desiredSha256 === runningSha256 ? 'matches' : 'differs';
}

/** `pcb-aoi@3`, as the Model column writes it, or `-`. */
const refLabel = (ref: { name: string; version: string } | null) => (ref === null ? '-' : `${ref.name}@${ref.version}`);
