import type pg from 'pg';
import { fromStoredDesiredState, toStoredDesiredState, type DesiredStateRecord, type StoredDesiredState } from './desired-state-record';
import type { ReportedStateRecord } from './reported-state-payload';

export interface DeviceKey {
  siteId: string;
  deviceId: string;
}

export interface DesiredStateRow extends DeviceKey {
  generation: number;
  desired: DesiredStateRecord;
}

/**
 * The desired and reported model state of every device, in
 * device_model_states. The desired side is written by rollouts; the reported
 * side by whatever consumes ReportedState.
 */
export class DeviceModelStates {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Sets what `devices` should run, each under a new generation. Runs on the
   * caller's transaction. A generation is above anything the device has
   * answered, too: a box that saw higher ones (a restored database, another
   * sender) would ignore a lower one forever.
   */
  async desire(db: Pick<pg.PoolClient, 'query'>, devices: DeviceKey[], desired: DesiredStateRecord): Promise<DesiredStateRow[]> {
    if (devices.length === 0) return [];
    const { rows } = await db.query<{ site_id: string; device_id: string; desired_generation: string }>(
      `INSERT INTO device_model_states (site_id, device_id, desired_generation, desired, updated_at)
       SELECT site_id, device_id, 1, $3::jsonb, now() FROM unnest($1::text[], $2::text[]) AS d(site_id, device_id)
       ON CONFLICT (site_id, device_id) DO UPDATE SET
         desired_generation = GREATEST(device_model_states.desired_generation, device_model_states.reported_generation) + 1,
         desired = EXCLUDED.desired,
         updated_at = now()
       RETURNING site_id, device_id, desired_generation`,
      [devices.map((d) => d.siteId), devices.map((d) => d.deviceId), JSON.stringify(toStoredDesiredState(desired))],
    );
    return rows.map((row) => ({ siteId: row.site_id, deviceId: row.device_id, generation: Number(row.desired_generation), desired }));
  }

  /**
   * Keeps the newest report. Reports of one generation are ordered by the
   * device's own clock: they can arrive out of order, but a box's clock does
   * not run backwards between two of its reports.
   */
  async recordReported(device: DeviceKey, report: ReportedStateRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO device_model_states (site_id, device_id, reported_generation, reported, reported_at, updated_at)
       VALUES ($1, $2, $3, $4::jsonb, $5, now())
       ON CONFLICT (site_id, device_id) DO UPDATE SET
         reported_generation = EXCLUDED.reported_generation,
         reported = EXCLUDED.reported,
         reported_at = EXCLUDED.reported_at,
         updated_at = now()
       WHERE device_model_states.reported_at IS NULL
          OR (EXCLUDED.reported_generation, EXCLUDED.reported_at) >= (device_model_states.reported_generation, device_model_states.reported_at)`,
      [device.siteId, device.deviceId, report.generation, JSON.stringify(report), report.reportedAt],
    );
  }

  /**
   * A rollout's desired states that their devices have not answered for
   * `olderThanMs`: sent again in case a publish was lost (a crash between
   * commit and publish, a broker that dropped it).
   */
  async unanswered(rolloutId: string, olderThanMs: number): Promise<DesiredStateRow[]> {
    const { rows } = await this.pool.query<{ site_id: string; device_id: string; desired_generation: string; desired: StoredDesiredState }>(
      `SELECT site_id, device_id, desired_generation, desired FROM device_model_states
       WHERE desired->>'rolloutId' = $1 AND reported_generation < desired_generation
         AND updated_at <= now() - $2 * interval '1 millisecond'`,
      [rolloutId, olderThanMs],
    );
    return rows.map((row) => ({ siteId: row.site_id, deviceId: row.device_id, generation: Number(row.desired_generation), desired: fromStoredDesiredState(row.desired) }));
  }
}
