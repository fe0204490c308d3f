import type { FleetDeviceDto } from '@loupe/api-contracts';
import type pg from 'pg';
import type { StoredDesiredState } from './desired-state-record';
import type { ReportedStateRecord } from './reported-state-payload';

/** Every enrolled device with what the cloud wants it to run and what it says it runs: the fleet page. */
export class FleetDevices {
  constructor(private readonly pool: pg.Pool) {}

  async list(fleetGroup?: string): Promise<FleetDeviceDto[]> {
    const { rows } = await this.pool.query<{
      site_id: string;
      device_id: string;
      fleet_group: string;
      revoked: boolean;
      last_seen_at: Date | null;
      agent_version: string | null;
      desired_generation: string | null;
      desired: StoredDesiredState | null;
      reported: ReportedStateRecord | null;
    }>(
      `SELECT c.site_id, c.device_id, c.fleet_group, c.revoked_at IS NOT NULL AS revoked, d.last_seen_at, d.agent_version,
              s.desired_generation, s.desired, s.reported
       FROM device_credentials c
       LEFT JOIN devices d ON d.site_id = c.site_id AND d.id = c.device_id
       LEFT JOIN device_model_states s ON s.site_id = c.site_id AND s.device_id = c.device_id
       WHERE $1::text IS NULL OR c.fleet_group = $1
       ORDER BY c.fleet_group, c.site_id, c.device_id`,
      [fleetGroup ?? null],
    );
    return rows.map((row) => ({
      siteId: row.site_id,
      deviceId: row.device_id,
      fleetGroup: row.fleet_group,
      revoked: row.revoked,
      lastSeenAt: row.last_seen_at?.toISOString() ?? null,
      agentVersion: row.agent_version,
      desired: row.desired
        ? {
            generation: Number(row.desired_generation),
            model: { name: row.desired.model.name, version: row.desired.model.version, sha256: row.desired.model.sha256 },
            rolloutId: row.desired.rolloutId,
          }
        : null,
      reported: row.reported
        ? {
            generation: row.reported.generation,
            reportedAt: row.reported.reportedAt,
            status: row.reported.status,
            active: row.reported.active,
            previous: row.reported.previous,
            error: row.reported.error,
            provider: row.reported.provider,
            runningSha256: row.reported.runningSha256,
          }
        : null,
    }));
  }
}
