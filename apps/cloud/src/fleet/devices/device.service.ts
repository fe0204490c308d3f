import type { DeviceDto } from '@loupe/api-contracts';
import type { ModelCounters } from '@loupe/device-state';
import { GroupCommit } from '@loupe/service';
import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../../clock';
import { DeviceRepository, type Device, type DeviceSighting } from './device.repository';

/** What a device says about itself in its telemetry. */
export interface DeviceReport {
  siteId: string;
  deviceId: string;
  agentVersion: string;
  model: { name: string; version: string } | null;
  provider: string | null;
  /** Counters of the active model since it became active, for rollout gates. */
  modelStats: ModelStatsReport | null;
}

/** Model statistics as device_model_stats keeps them: one row per device, named by its columns. */
export interface ModelStatsReport extends ModelCounters {
  modelName: string;
  modelVersion: string;
  shadowVersion: string | null;
}

/**
 * Every box sends telemetry each period, so a fleet of thousands sends
 * thousands a second: written one transaction each, they would queue behind
 * the pool without bound. Reports are validated before they are added, so a
 * group that fails fails for the database's reasons, alike for all of it.
 */
const SIGHTING_GROUPS = { maxGroup: 1_000, concurrency: 2, gatherOneTurn: true, retryAlone: () => false };

/** The devices' telemetry in, and the one read of every device out. */
@Injectable()
export class DeviceService {
  private readonly sightings: GroupCommit<DeviceSighting, void>;

  constructor(
    @Inject(DeviceRepository) private readonly devices: DeviceRepository,
    @Inject(Clock) private readonly clock: Clock,
  ) {
    this.sightings = new GroupCommit<DeviceSighting, void>(async (group) => {
      await devices.recordSightings(group);
      return group.map(() => undefined);
    }, SIGHTING_GROUPS);
  }

  /**
   * Last-seen is the cloud's receive time, not the device's clock: boxes on
   * a line often run without NTP, and their clocks drift.
   */
  async recordReport(report: DeviceReport): Promise<void> {
    await this.sightings.add({ ...report, seenAt: this.clock.now() });
  }

  /** Every device enrolled or heard from, or those enrolled in `fleetGroup`, by site and device id. */
  async list(fleetGroup?: string): Promise<DeviceDto[]> {
    return (await this.devices.list(fleetGroup)).map(toDto);
  }
}

function toDto({ siteId, deviceId, enrollment, telemetry, desired, reported, stats }: Device): DeviceDto {
  return {
    siteId,
    deviceId,
    fleetGroup: enrollment?.fleetGroup ?? null,
    revoked: enrollment?.revoked ?? false,
    enrolledAt: enrollment?.enrolledAt.toISOString() ?? null,
    agentVersion: telemetry?.agentVersion ?? null,
    model: telemetry?.model ?? null,
    provider: telemetry?.provider ?? null,
    firstSeenAt: telemetry?.firstSeenAt.toISOString() ?? null,
    lastSeenAt: telemetry?.lastSeenAt.toISOString() ?? null,
    desired,
    reported,
    stats: stats && { ...stats, updatedAt: stats.updatedAt.toISOString() },
  };
}
