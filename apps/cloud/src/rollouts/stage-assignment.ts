import { createHash } from 'node:crypto';
import { DomainError } from '@loupe/service';
import type { RolloutPlan } from './rollout-plan';

export interface FleetDevice {
  siteId: string;
  deviceId: string;
}

export const deviceKeyOf = (device: FleetDevice) => `${device.siteId}/${device.deviceId}`;

/** A device named in a plan that is not in the fleet group. */
export class UnknownCanaryError extends DomainError {
  readonly kind = 'refused';
  constructor(readonly devices: string[], group: string) {
    super(`not enrolled in fleet group "${group}": ${devices.join(', ')}`);
  }
}

/**
 * Which stage takes each device of the group: named canaries in the first
 * stage naming them, then percentages filled in an order that is random per
 * rollout but stable (a hash of rollout id and device), so a restarted
 * controller assigns exactly the same devices and each rollout picks other
 * boxes than the last.
 */
export function assignStages(rolloutId: string, plan: RolloutPlan, group: string, devices: FleetDevice[]): Map<string, number> {
  const stageOf = new Map<string, number>();
  const known = new Set(devices.map(deviceKeyOf));
  const unknown = plan.stages.flatMap((stage) => stage.devices).filter((key) => !known.has(key));
  if (unknown.length > 0) throw new UnknownCanaryError([...new Set(unknown)], group);

  const shuffled = devices
    .map((device) => ({ key: deviceKeyOf(device), rank: createHash('sha256').update(`${rolloutId}\n${deviceKeyOf(device)}`).digest('hex') }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
  let next = 0;
  plan.stages.forEach((stage, index) => {
    for (const key of stage.devices) if (!stageOf.has(key)) stageOf.set(key, index);
    if (stage.percent === undefined) return;
    const target = Math.ceil((stage.percent / 100) * devices.length);
    while (stageOf.size < target && next < shuffled.length) {
      const candidate = shuffled[next++]!.key;
      if (!stageOf.has(candidate)) stageOf.set(candidate, index);
    }
  });
  return stageOf;
}
