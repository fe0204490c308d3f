import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../database/generated/database-types';
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

export class PostgresDeviceRepository extends DeviceRepository {
  constructor(private readonly db: Kysely<DB>) {
    super();
  }

  async recordSighting(s: DeviceSighting): Promise<void> {
    // One statement per table, no read-modify-write: concurrent consumers and
    // late, reordered telemetry cannot move last_seen_at backwards.
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('sites').values({ id: s.siteId }).onConflict((oc) => oc.column('id').doNothing()).execute();
      await trx
        .insertInto('devices')
        .values({
          site_id: s.siteId,
          id: s.deviceId,
          agent_version: s.agentVersion,
          model_name: s.model?.name ?? null,
          model_version: s.model?.version ?? null,
          provider: s.provider,
          first_seen_at: s.seenAt,
          last_seen_at: s.seenAt,
        })
        .onConflict((oc) =>
          oc
            .columns(['site_id', 'id'])
            .doUpdateSet((eb) => ({
              agent_version: eb.ref('excluded.agent_version'),
              model_name: eb.ref('excluded.model_name'),
              model_version: eb.ref('excluded.model_version'),
              provider: eb.ref('excluded.provider'),
              last_seen_at: eb.ref('excluded.last_seen_at'),
            }))
            .where('devices.last_seen_at', '<=', (eb) => eb.ref('excluded.last_seen_at')),
        )
        .execute();
      if (s.modelStats) await recordModelStats(trx, s.siteId, s.deviceId, s.modelStats, s.seenAt);
    });
  }

  async list(): Promise<Device[]> {
    const rows = await this.db.selectFrom('devices').selectAll().orderBy('site_id').orderBy('id').execute();
    return rows.map((row) => ({
      siteId: row.site_id,
      deviceId: row.id,
      agentVersion: row.agent_version,
      model: row.model_name !== null && row.model_version !== null ? { name: row.model_name, version: row.model_version } : null,
      provider: row.provider,
      firstSeenAt: row.first_seen_at,
      lastSeenAt: row.last_seen_at,
    }));
  }
}

/** Counters only grow while a version serves; a reordered older message must not shrink them. */
async function recordModelStats(db: Transaction<DB>, siteId: string, deviceId: string, m: ModelStatsReport, seenAt: Date): Promise<void> {
  const counters = {
    inspections: String(m.inspections),
    errors: String(m.errors),
    rejects: String(m.rejects),
    uncertain: String(m.uncertain),
    confidence_histogram: m.confidenceHistogram.map(String),
    p99_ms: m.p99Ms,
    shadow_version: m.shadowVersion,
    shadow_compared: String(m.shadowCompared),
    shadow_disagreed: String(m.shadowDisagreed),
    updated_at: seenAt,
  };
  await db
    .insertInto('device_model_stats')
    .values({ site_id: siteId, device_id: deviceId, model_name: m.modelName, model_version: m.modelVersion, ...counters })
    .onConflict((oc) =>
      oc
        .columns(['site_id', 'device_id', 'model_name', 'model_version'])
        .doUpdateSet((eb) => ({
          inspections: eb.ref('excluded.inspections'),
          errors: eb.ref('excluded.errors'),
          rejects: eb.ref('excluded.rejects'),
          uncertain: eb.ref('excluded.uncertain'),
          confidence_histogram: eb.ref('excluded.confidence_histogram'),
          p99_ms: eb.ref('excluded.p99_ms'),
          shadow_version: eb.ref('excluded.shadow_version'),
          shadow_compared: eb.ref('excluded.shadow_compared'),
          shadow_disagreed: eb.ref('excluded.shadow_disagreed'),
          updated_at: eb.ref('excluded.updated_at'),
        }))
        .where('device_model_stats.updated_at', '<=', (eb) => eb.ref('excluded.updated_at')),
    )
    .execute();
}
