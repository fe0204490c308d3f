import { Inject, Injectable } from '@nestjs/common';
import { Kysely, sql } from 'kysely';
import type { DB } from '../../database/generated/database-types';
import { preparedQuery, type PgQueryable } from '../../database/prepared-query';
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

// Every device in `siteIds`/`deviceIds` (pairwise) gets `desired` under a generation above any it has seen or answered.
const desireAll = preparedQuery('fleet-desire', (db, p: { siteIds: string[]; deviceIds: string[]; desired: string }) =>
  db
    .insertInto('device_model_states')
    .columns(['site_id', 'device_id', 'desired_generation', 'desired', 'updated_at'])
    .expression((eb) =>
      eb
        .selectFrom(sql<{ site_id: string; device_id: string }>`unnest(${p.siteIds}::text[], ${p.deviceIds}::text[])`.as<'d'>(sql`d(site_id, device_id)`))
        .select(['d.site_id', 'd.device_id', sql<string>`1`.as('desired_generation'), sql`${p.desired}::jsonb`.as('desired'), sql<Date>`now()`.as('updated_at')]),
    )
    .onConflict((oc) =>
      oc.columns(['site_id', 'device_id']).doUpdateSet((eb) => ({
        desired_generation: sql<string>`GREATEST(${eb.ref('device_model_states.desired_generation')}, ${eb.ref('device_model_states.reported_generation')}) + 1`,
        desired: eb.ref('excluded.desired'),
        updated_at: sql<Date>`now()`,
      })),
    )
    .returning(['site_id', 'device_id', 'desired_generation']),
);

// Every device reports on every change, so this runs often: one statement for
// a group of reports, at most one per device (ON CONFLICT updates a row once).
const keepNewestReports = preparedQuery(
  'fleet-record-reported',
  (db, p: { siteIds: string[]; deviceIds: string[]; generations: string[]; reported: string[]; reportedAt: string[] }) =>
    db
      .insertInto('device_model_states')
      .columns(['site_id', 'device_id', 'reported_generation', 'reported', 'reported_at', 'updated_at'])
      .expression((eb) =>
        eb
          .selectFrom(
            sql<{ site_id: string; device_id: string; generation: string; reported: unknown; reported_at: Date }>`unnest(${p.siteIds}::text[], ${p.deviceIds}::text[], ${p.generations}::bigint[], ${p.reported}::jsonb[], ${p.reportedAt}::timestamptz[])`.as<'r'>(
              sql`r(site_id, device_id, generation, reported, reported_at)`,
            ),
          )
          .select(['r.site_id', 'r.device_id', 'r.generation', 'r.reported', 'r.reported_at', sql<Date>`now()`.as('updated_at')]),
      )
      .onConflict((oc) =>
        oc
          .columns(['site_id', 'device_id'])
          .doUpdateSet((eb) => ({
            reported_generation: eb.ref('excluded.reported_generation'),
            reported: eb.ref('excluded.reported'),
            reported_at: eb.ref('excluded.reported_at'),
            updated_at: sql<Date>`now()`,
          }))
          .where((eb) =>
            eb.or([
              eb('device_model_states.reported_at', 'is', null),
              eb(
                eb.refTuple('excluded.reported_generation', 'excluded.reported_at'),
                '>=',
                eb.refTuple('device_model_states.reported_generation', 'device_model_states.reported_at'),
              ),
            ]),
          ),
      ),
);

export interface DeviceReportRecord extends DeviceKey {
  report: ReportedStateRecord;
}

/** Whether `a` is at least as new as `b`: by generation, then by the device's own clock. */
const newerOrSame = (a: ReportedStateRecord, b: ReportedStateRecord) =>
  a.generation !== b.generation ? a.generation > b.generation : Date.parse(a.reportedAt) >= Date.parse(b.reportedAt);

/** The newest of each device's reports, in the order the devices first appear. */
function newestPerDevice(reports: DeviceReportRecord[]): DeviceReportRecord[] {
  const newest = new Map<string, DeviceReportRecord>();
  for (const record of reports) {
    const name = `${record.siteId}/${record.deviceId}`;
    const held = newest.get(name);
    if (!held || newerOrSame(record.report, held.report)) newest.set(name, record);
  }
  return [...newest.values()];
}

/**
 * The desired and reported model state of every device, in
 * device_model_states. The desired side is written by rollouts; the reported
 * side by whatever consumes ReportedState.
 */
@Injectable()
export class DeviceModelStates {
  constructor(@Inject(Kysely) private readonly db: Kysely<DB>) {}

  /**
   * Sets what `devices` should run, each under a new generation. Runs on the
   * caller's transaction. A generation is above anything the device has
   * answered, too: a box that saw higher ones (a restored database, another
   * sender) would ignore a lower one forever.
   */
  async desire(client: PgQueryable, devices: DeviceKey[], desired: DesiredStateRecord): Promise<DesiredStateRow[]> {
    if (devices.length === 0) return [];
    const { rows } = await desireAll.executeOn(client, {
      siteIds: devices.map((d) => d.siteId),
      deviceIds: devices.map((d) => d.deviceId),
      desired: JSON.stringify(toStoredDesiredState(desired)),
    });
    return rows.map((row) => ({ siteId: row.site_id, deviceId: row.device_id, generation: Number(row.desired_generation), desired }));
  }

  /**
   * Keeps each device's newest report, for a group of reports in one
   * statement. Reports of one generation are ordered by the device's own
   * clock: they can arrive out of order, but a box's clock does not run
   * backwards between two of its reports.
   */
  async recordReported(reports: DeviceReportRecord[]): Promise<void> {
    const newest = newestPerDevice(reports);
    if (newest.length === 0) return;
    await keepNewestReports.execute(this.db, {
      siteIds: newest.map((r) => r.siteId),
      deviceIds: newest.map((r) => r.deviceId),
      generations: newest.map((r) => String(r.report.generation)),
      reported: newest.map((r) => JSON.stringify(r.report)),
      reportedAt: newest.map((r) => r.report.reportedAt),
    });
  }

  /**
   * A rollout's desired states that their devices have not answered for
   * `olderThanMs`: sent again in case a publish was lost (a crash between
   * commit and publish, a broker that dropped it).
   */
  async unanswered(rolloutId: string, olderThanMs: number): Promise<DesiredStateRow[]> {
    const rows = await this.db
      .selectFrom('device_model_states')
      .select(['site_id', 'device_id', 'desired_generation', 'desired'])
      .where(sql<string>`desired->>'rolloutId'`, '=', rolloutId)
      .whereRef('reported_generation', '<', 'desired_generation')
      .where('updated_at', '<=', sql<Date>`now() - ${olderThanMs} * interval '1 millisecond'`)
      .execute();
    return rows.map((row) => ({
      siteId: row.site_id,
      deviceId: row.device_id,
      generation: Number(row.desired_generation),
      // Only desire() writes it, from a DesiredStateRecord.
      desired: fromStoredDesiredState(row.desired as StoredDesiredState),
    }));
  }
}
