import { Inject, Injectable } from '@nestjs/common';
import type { InferResult, Kysely, Transaction } from 'kysely';
import type { Database } from '../../database/database';
import type { DB } from '../../database/generated/database-types';
import { DATABASE } from '../../infrastructure.tokens';
import type { StoredDesiredState } from '../state/desired-state-record';
import type { ReportedStateRecord } from '../state/reported-state-payload';
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

type ModelRef = { name: string; version: string; sha256: string };

/**
 * One device as the cloud knows it: its enrollment, its last telemetry, what
 * the cloud wants it to run and what it reports, and the statistics of the
 * model its telemetry names. Each part is null when the cloud has none.
 */
export interface Device {
  siteId: string;
  deviceId: string;
  enrollment: { fleetGroup: string; enrolledAt: Date; revoked: boolean } | null;
  telemetry: { agentVersion: string; model: { name: string; version: string } | null; provider: string | null; firstSeenAt: Date; lastSeenAt: Date } | null;
  desired: { generation: number; model: ModelRef; rolloutId: string } | null;
  reported: Pick<ReportedStateRecord, 'generation' | 'reportedAt' | 'status' | 'active' | 'previous' | 'error' | 'provider' | 'runningSha256'> | null;
  stats: (Omit<ModelStatsReport, 'modelName' | 'modelVersion'> & { updatedAt: Date }) | null;
}

/** Where devices are kept. Abstract so services can be tested without Postgres. */
export abstract class DeviceRepository {
  /** Records a sighting; an older sighting than the stored one changes nothing. */
  abstract recordSighting(sighting: DeviceSighting): Promise<void>;
  /** Every device enrolled or heard from (only those enrolled in `fleetGroup` when given), by site and device id. */
  abstract list(fleetGroup?: string): Promise<Device[]>;
}

@Injectable()
export class PostgresDeviceRepository extends DeviceRepository {
  private readonly db: Kysely<DB>;

  constructor(@Inject(DATABASE) database: Database) {
    super();
    this.db = database.db;
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

  async list(fleetGroup?: string): Promise<Device[]> {
    const rows = await deviceListQuery(this.db, fleetGroup).execute();
    return rows.map(toDevice);
  }
}

/**
 * The devices a list names: a device is in the cloud's view once it has
 * enrolled, sent telemetry or had a model state kept (a box on configured
 * broker credentials never enrolls). A fleet group exists only by enrollment.
 */
function deviceKeys(db: Kysely<DB>, fleetGroup: string | undefined) {
  const enrolled = db.selectFrom('device_credentials').select(['site_id', 'device_id']);
  if (fleetGroup !== undefined) return enrolled.where('fleet_group', '=', fleetGroup);
  return enrolled
    .union(db.selectFrom('devices').select(['site_id', 'id as device_id']))
    .union(db.selectFrom('device_model_states').select(['site_id', 'device_id']));
}

/** Every fact about each device, one row per device; the statistics are those of the model its telemetry names. */
function deviceListQuery(db: Kysely<DB>, fleetGroup: string | undefined) {
  return db
    .selectFrom(deviceKeys(db, fleetGroup).as('k'))
    .leftJoin('device_credentials as c', (join) => join.onRef('c.site_id', '=', 'k.site_id').onRef('c.device_id', '=', 'k.device_id'))
    .leftJoin('devices as d', (join) => join.onRef('d.site_id', '=', 'k.site_id').onRef('d.id', '=', 'k.device_id'))
    .leftJoin('device_model_states as s', (join) => join.onRef('s.site_id', '=', 'k.site_id').onRef('s.device_id', '=', 'k.device_id'))
    .leftJoin('device_model_stats as m', (join) =>
      join
        .onRef('m.site_id', '=', 'k.site_id')
        .onRef('m.device_id', '=', 'k.device_id')
        .onRef('m.model_name', '=', 'd.model_name')
        .onRef('m.model_version', '=', 'd.model_version'),
    )
    .select(['k.site_id', 'k.device_id', 'c.fleet_group', 'c.enrolled_at', 'c.revoked_at'])
    .select(['d.agent_version', 'd.model_name', 'd.model_version', 'd.provider', 'd.first_seen_at', 'd.last_seen_at'])
    .select(['s.desired_generation', 's.desired', 's.reported'])
    .select(['m.inspections', 'm.errors', 'm.rejects', 'm.uncertain', 'm.confidence_histogram', 'm.p99_ms'])
    .select(['m.shadow_version', 'm.shadow_compared', 'm.shadow_disagreed', 'm.updated_at as stats_updated_at'])
    .orderBy('k.site_id')
    .orderBy('k.device_id');
}

type DeviceRow = InferResult<ReturnType<typeof deviceListQuery>>[number];

function toDevice(row: DeviceRow): Device {
  return {
    siteId: row.site_id,
    deviceId: row.device_id,
    enrollment:
      row.fleet_group !== null && row.enrolled_at !== null ? { fleetGroup: row.fleet_group, enrolledAt: row.enrolled_at, revoked: row.revoked_at !== null } : null,
    telemetry:
      row.agent_version !== null && row.first_seen_at !== null && row.last_seen_at !== null
        ? {
            agentVersion: row.agent_version,
            model: row.model_name !== null && row.model_version !== null ? { name: row.model_name, version: row.model_version } : null,
            provider: row.provider,
            firstSeenAt: row.first_seen_at,
            lastSeenAt: row.last_seen_at,
          }
        : null,
    desired: desiredOf(row.desired as StoredDesiredState | null, row.desired_generation),
    reported: reportedOf(row.reported as ReportedStateRecord | null),
    stats: statsOf(row),
  };
}

// Only DesiredStatePublisher's callers write `desired`, from a DesiredStateRecord.
function desiredOf(desired: StoredDesiredState | null, generation: string | null): Device['desired'] {
  if (desired === null) return null;
  const { name, version, sha256 } = desired.model;
  return { generation: Number(generation), model: { name, version, sha256 }, rolloutId: desired.rolloutId };
}

// Only the reported-state consumer writes `reported`, from a ReportedStateRecord.
function reportedOf(reported: ReportedStateRecord | null): Device['reported'] {
  if (reported === null) return null;
  const { generation, reportedAt, status, active, previous, error, provider, runningSha256 } = reported;
  return { generation, reportedAt, status, active, previous, error, provider, runningSha256 };
}

// Counters are bigint columns, which pg hands over as strings.
function statsOf(row: DeviceRow): Device['stats'] {
  if (row.stats_updated_at === null || row.confidence_histogram === null || row.p99_ms === null) return null;
  return {
    inspections: Number(row.inspections),
    errors: Number(row.errors),
    rejects: Number(row.rejects),
    uncertain: Number(row.uncertain),
    confidenceHistogram: row.confidence_histogram.map(Number),
    p99Ms: row.p99_ms,
    shadowVersion: row.shadow_version,
    shadowCompared: Number(row.shadow_compared),
    shadowDisagreed: Number(row.shadow_disagreed),
    updatedAt: row.stats_updated_at,
  };
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
