import type { DeviceDto } from '@loupe/api-contracts';
import type { ModelCounters } from '@loupe/device-state';
import type { Clock } from '../clock';
import type { DeviceRepository } from './device.repository';

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

export class DeviceService {
  constructor(
    private readonly devices: DeviceRepository,
    private readonly clock: Clock,
  ) {}

  /**
   * Last-seen is the cloud's receive time, not the device's clock: boxes on
   * a line often run without NTP, and their clocks drift.
   */
  async recordReport(report: DeviceReport): Promise<void> {
    await this.devices.recordSighting({ ...report, seenAt: this.clock.now() });
  }

  async list(): Promise<DeviceDto[]> {
    const devices = await this.devices.list();
    return devices.map((device) => ({
      ...device,
      firstSeenAt: device.firstSeenAt.toISOString(),
      lastSeenAt: device.lastSeenAt.toISOString(),
    }));
  }
}
