import type { DeviceDto, FleetDeviceDto } from '@loupe/api-contracts';
import { lastSeenAgo, modelLabel } from '@loupe/device-display';

/**
 * A device heard from within this window shows as online. Wide enough that
 * one late or lost telemetry message does not flicker the dot grey.
 */
export const ONLINE_WITHIN_MS = 30_000;

/** What the Fleet page shows: the devices' telemetry, and the enrolled devices' model updates. */
export interface Fleet {
  devices: readonly DeviceDto[];
  enrolled: readonly FleetDeviceDto[];
}

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

/**
 * The fleet as table rows, by site and then device: every device that sent
 * telemetry or is enrolled, once, with what each list knows about it.
 */
export function toFleetRows({ devices, enrolled }: Fleet, now: Date): FleetRow[] {
  const keyOf = (device: { siteId: string; deviceId: string }) => `${device.siteId}/${device.deviceId}`;
  const heard = new Map(devices.map((device) => [keyOf(device), device]));
  const updates = new Map(enrolled.map((device) => [keyOf(device), device]));
  const ids = new Map([...devices, ...enrolled].map((device) => [keyOf(device), { siteId: device.siteId, deviceId: device.deviceId }]));
  return [...ids.entries()]
    .sort(([, a], [, b]) => compareText(a.siteId, b.siteId) || compareText(a.deviceId, b.deviceId))
    .map(([key, { siteId, deviceId }]) => {
      const telemetry = heard.get(key);
      const update = updates.get(key);
      const lastSeenAt = telemetry?.lastSeenAt ?? update?.lastSeenAt ?? null;
      return {
        key,
        site: siteId,
        device: deviceId,
        agent: telemetry?.agentVersion ?? update?.agentVersion ?? '-',
        model: telemetry ? modelLabel(telemetry) : '-',
        provider: telemetry?.provider ?? (update?.reported?.provider || '-'),
        lastSeen: lastSeenAt === null ? 'never' : lastSeenAgo(new Date(lastSeenAt), now),
        online: lastSeenAt !== null && isOnline(new Date(lastSeenAt), now),
        ota: update ? otaCells(update) : null,
      };
    });
}

function otaCells({ fleetGroup, revoked, desired, reported }: FleetDeviceDto): OtaCells {
  return {
    group: fleetGroup,
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

// Code-point order, as @loupe/device-display's byDeviceOrder: the same
// fleet lists the same way in every browser and terminal.
function compareText(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
