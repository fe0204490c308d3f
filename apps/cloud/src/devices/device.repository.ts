import type { PrismaClient } from '../database/generated/client';
import type { ModelStatsReport } from './device.service';

/** What one telemetry message tells us about a device. */
export interface DeviceSighting {
  siteId: string;
  deviceId: string;
  agentVersion: string;
  model: { name: string; version: string } | null;
  provider: string | null;
  modelStats: ModelStatsReport | null;
  seenAt: Date;
}

export interface Device {
  siteId: string;
  deviceId: string;
  agentVersion: string;
  model: { name: string; version: string } | null;
  provider: string | null;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

/** Where devices are kept. Abstract so services can be tested without Postgres. */
export abstract class DeviceRepository {
  /** Records a sighting; an older sighting than the stored one changes nothing. */
  abstract recordSighting(sighting: DeviceSighting): Promise<void>;
  abstract list(): Promise<Device[]>;
}

export class PrismaDeviceRepository extends DeviceRepository {
  constructor(private readonly prisma: PrismaClient) {
    super();
  }

  async recordSighting(s: DeviceSighting): Promise<void> {
    // One statement per table, no read-modify-write: concurrent consumers and
    // late, reordered telemetry cannot move last_seen_at backwards.
    await this.prisma.$transaction([
      this.prisma.$executeRaw`INSERT INTO sites (id) VALUES (${s.siteId}) ON CONFLICT (id) DO NOTHING`,
      this.prisma.$executeRaw`
        INSERT INTO devices (site_id, id, agent_version, model_name, model_version, provider, first_seen_at, last_seen_at)
        VALUES (${s.siteId}, ${s.deviceId}, ${s.agentVersion}, ${s.model?.name ?? null}, ${s.model?.version ?? null},
                ${s.provider}, ${s.seenAt}, ${s.seenAt})
        ON CONFLICT (site_id, id) DO UPDATE SET
          agent_version = EXCLUDED.agent_version,
          model_name    = EXCLUDED.model_name,
          model_version = EXCLUDED.model_version,
          provider      = EXCLUDED.provider,
          last_seen_at  = EXCLUDED.last_seen_at
        WHERE devices.last_seen_at <= EXCLUDED.last_seen_at`,
      ...(s.modelStats ? [this.recordModelStats(s.siteId, s.deviceId, s.modelStats, s.seenAt)] : []),
    ]);
  }

  /** Counters only grow while a version serves; a reordered older message must not shrink them. */
  private recordModelStats(siteId: string, deviceId: string, m: ModelStatsReport, seenAt: Date) {
    return this.prisma.$executeRaw`
      INSERT INTO device_model_stats (site_id, device_id, model_name, model_version, inspections, errors, rejects, uncertain,
                                      confidence_histogram, p99_ms, shadow_version, shadow_compared, shadow_disagreed, updated_at)
      VALUES (${siteId}, ${deviceId}, ${m.modelName}, ${m.modelVersion}, ${m.inspections}, ${m.errors}, ${m.rejects}, ${m.uncertain},
              ${m.confidenceHistogram}::bigint[], ${m.p99Ms}, ${m.shadowVersion}, ${m.shadowCompared}, ${m.shadowDisagreed}, ${seenAt})
      ON CONFLICT (site_id, device_id, model_name, model_version) DO UPDATE SET
        inspections = EXCLUDED.inspections, errors = EXCLUDED.errors, rejects = EXCLUDED.rejects, uncertain = EXCLUDED.uncertain,
        confidence_histogram = EXCLUDED.confidence_histogram, p99_ms = EXCLUDED.p99_ms, shadow_version = EXCLUDED.shadow_version,
        shadow_compared = EXCLUDED.shadow_compared, shadow_disagreed = EXCLUDED.shadow_disagreed, updated_at = EXCLUDED.updated_at
      WHERE device_model_stats.updated_at <= EXCLUDED.updated_at`;
  }

  async list(): Promise<Device[]> {
    const rows = await this.prisma.device.findMany({ orderBy: [{ siteId: 'asc' }, { id: 'asc' }] });
    return rows.map((row) => ({
      siteId: row.siteId,
      deviceId: row.id,
      agentVersion: row.agentVersion,
      model: row.modelName !== null && row.modelVersion !== null ? { name: row.modelName, version: row.modelVersion } : null,
      provider: row.provider,
      firstSeenAt: row.firstSeenAt,
      lastSeenAt: row.lastSeenAt,
    }));
  }
}
