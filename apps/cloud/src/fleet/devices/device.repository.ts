import { Inject, Injectable } from '@nestjs/common';
import { sql, type InferResult, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../database/database';
import type { DB } from '../../database/generated/database-types';
import { DATABASE } from '../../infrastructure.tokens';
import type { StoredDesiredState } from '../state/desired-state-record';
import type { ReportedStateRecord } from '../state/reported-state-payload';
import type { DeviceReport, ModelStatsReport } from './device.service';

/** What one telemetry message tells us about a device, and when the cloud received it. */
export interface DeviceSighting extends DeviceReport {
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
  /** Records a group of sightings; a sighting older than the stored one changes nothing. */
  abstract recordSightings(sightings: DeviceSighting[]): Promise<void>;
  /** Every device enrolled or heard from (only those enrolled in `fleetGroup` when given), by site and device id. */
  abstract list(fleetGroup?: string): Promise<Device[]>;
}

const byDevice = (a: { siteId: string; deviceId: string }, b: { siteId: string; deviceId: string }) =>
  a.siteId < b.siteId ? -1 : a.siteId > b.siteId ? 1 : a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0;

/**
 * The newest of the sightings that share a key, sorted by device: an upsert
 * updates a row once per statement, and two groups written at once take
 * their row locks in the same order, so neither waits on the other in a cycle.
 */
function newestBy<T extends { siteId: string; deviceId: string; seenAt: Date }>(items: T[], keyOf: (item: T) => string): T[] {
  const newest = new Map<string, T>();
  for (const item of items) {
    const key = keyOf(item);
    const held = newest.get(key);
    if (!held || held.seenAt <= item.seenAt) newest.set(key, item);
  }
  return [...newest.values()].sort(byDevice);
}

const deviceKey = (s: DeviceSighting) => `${s.siteId}\n${s.deviceId}`;

@Injectable()
export class PostgresDeviceRepository extends DeviceRepository {
  private readonly db: Kysely<DB>;

  constructor(@Inject(DATABASE) database: Database) {
    super();
    this.db = database.db;
  }

  async recordSightings(sightings: DeviceSighting[]): Promise<void> {
    if (sightings.length === 0) return;
    const devices = newestBy(sightings, deviceKey);
    const stats = newestBy(
      sightings.flatMap((s) => (s.modelStats ? [{ siteId: s.siteId, deviceId: s.deviceId, seenAt: s.seenAt, stats: s.modelStats }] : [])),
      (s) => `${s.siteId}\n${s.deviceId}\n${s.stats.modelName}\n${s.stats.modelVersion}`,
    );
    // One statement per table, no read-modify-write: concurrent consumers and
    // late, reordered telemetry cannot move last_seen_at backwards.
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('sites')
        .columns(['id'])
        .expression((eb) => eb.selectFrom(sql<{ id: string }>`unnest(${[...new Set(devices.map((d) => d.siteId))].sort()}::text[])`.as<'s'>(sql`s(id)`)).select('s.id'))
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      await recordDevices(trx, devices);
      if (stats.length > 0) await recordModelStats(trx, stats);
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

async function recordDevices(db: Transaction<DB>, devices: DeviceSighting[]): Promise<void> {
  const column = <T>(value: (s: DeviceSighting) => T) => devices.map(value);
  await db
    .insertInto('devices')
    .columns(['site_id', 'id', 'agent_version', 'model_name', 'model_version', 'provider', 'first_seen_at', 'last_seen_at'])
    .expression((eb) =>
      eb
        .selectFrom(
          sql<{ site_id: string; id: string; agent_version: string; model_name: string | null; model_version: string | null; provider: string | null; seen_at: Date }>`unnest(
            ${column((s) => s.siteId)}::text[], ${column((s) => s.deviceId)}::text[], ${column((s) => s.agentVersion)}::text[],
            ${column((s) => s.model?.name ?? null)}::text[], ${column((s) => s.model?.version ?? null)}::text[], ${column((s) => s.provider)}::text[],
            ${column((s) => s.seenAt)}::timestamptz[])`.as<'d'>(sql`d(site_id, id, agent_version, model_name, model_version, provider, seen_at)`),
        )
        .select(['d.site_id', 'd.id', 'd.agent_version', 'd.model_name', 'd.model_version', 'd.provider', 'd.seen_at as first_seen_at', 'd.seen_at as last_seen_at']),
    )
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
}

interface StatsSighting {
  siteId: string;
  deviceId: string;
  seenAt: Date;
  stats: ModelStatsReport;
}

/** Counters only grow while a version serves; a reordered older message must not shrink them. */
async function recordModelStats(db: Transaction<DB>, rows: StatsSighting[]): Promise<void> {
  const column = <T>(value: (m: ModelStatsReport) => T) => rows.map((row) => value(row.stats));
  await db
    .insertInto('device_model_stats')
    .columns(['site_id', 'device_id', 'model_name', 'model_version', 'inspections', 'errors', 'rejects', 'uncertain', 'confidence_histogram', 'p99_ms', 'shadow_version', 'shadow_compared', 'shadow_disagreed', 'updated_at'])
    .expression((eb) =>
      eb
        .selectFrom(
          // A histogram travels as an array literal: unnest would flatten an array of arrays.
          sql<{ site_id: string; device_id: string; model_name: string; model_version: string; inspections: string; errors: string; rejects: string; uncertain: string; histogram: string; p99_ms: number; shadow_version: string | null; shadow_compared: string; shadow_disagreed: string; updated_at: Date }>`unnest(
            ${rows.map((row) => row.siteId)}::text[], ${rows.map((row) => row.deviceId)}::text[], ${column((m) => m.modelName)}::text[], ${column((m) => m.modelVersion)}::text[],
            ${column((m) => String(m.inspections))}::bigint[], ${column((m) => String(m.errors))}::bigint[], ${column((m) => String(m.rejects))}::bigint[], ${column((m) => String(m.uncertain))}::bigint[],
            ${column((m) => `{${m.confidenceHistogram.join(',')}}`)}::text[], ${column((m) => m.p99Ms)}::float8[], ${column((m) => m.shadowVersion)}::text[],
            ${column((m) => String(m.shadowCompared))}::bigint[], ${column((m) => String(m.shadowDisagreed))}::bigint[], ${rows.map((row) => row.seenAt)}::timestamptz[])`.as<'m'>(
            sql`m(site_id, device_id, model_name, model_version, inspections, errors, rejects, uncertain, histogram, p99_ms, shadow_version, shadow_compared, shadow_disagreed, updated_at)`,
          ),
        )
        .select((eb) => [
          'm.site_id', 'm.device_id', 'm.model_name', 'm.model_version', 'm.inspections', 'm.errors', 'm.rejects', 'm.uncertain',
          sql<string[]>`${eb.ref('m.histogram')}::bigint[]`.as('confidence_histogram'),
          'm.p99_ms', 'm.shadow_version', 'm.shadow_compared', 'm.shadow_disagreed', 'm.updated_at',
        ]),
    )
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
