import { CONFIDENCE_BINS } from '@loupe/device-state';
import { sql, type ExpressionBuilder } from 'kysely';
import type { DB } from '../database/generated/database-types';
import { preparedQuery, type PgQueryable } from '../database/prepared-query';
import { EMPTY_COHORT, type CohortStats } from './cohort-gates';
import type { RolloutGates } from './rollout-plan';

export interface Cohorts {
  candidate: CohortStats;
  baseline: CohortStats;
  /** `same-devices` when the stage's own devices ran the old version long enough to compare; else `fleet-group`. */
  baselineFrom: 'same-devices' | 'fleet-group';
}

/** The sums of a cohort's device_model_stats rows; the histogram summed bin by bin. */
const sums = (eb: ExpressionBuilder<DB & { s: DB['device_model_stats'] }, 's'>) => [
  sql<number>`count(*)::int`.as('devices'),
  eb.fn.sum<string | null>('s.inspections').as('inspections'),
  eb.fn.sum<string | null>('s.errors').as('errors'),
  eb.fn.sum<string | null>('s.rejects').as('rejects'),
  eb.fn.sum<string | null>('s.uncertain').as('uncertain'),
  eb.fn.max<number | null>('s.p99_ms').as('p99_ms'),
  eb.fn.sum<string | null>('s.shadow_compared').as('shadow_compared'),
  eb.fn.sum<string | null>('s.shadow_disagreed').as('shadow_disagreed'),
  // unnest flattens the aggregated histograms; each value's ordinal names its bin.
  sql<string[] | null>`(SELECT array_agg(total ORDER BY bin) FROM (
     SELECT bin, sum(value) AS total FROM unnest(array_agg(s.confidence_histogram)) WITH ORDINALITY AS all_bins(value, n)
     CROSS JOIN LATERAL (SELECT ((n - 1) % ${sql.lit(CONFIDENCE_BINS)}) AS bin) AS b GROUP BY bin) AS per_bin)`.as('histogram'),
];

// The rollout's active devices' counters for one version: the candidate, or the same devices' own baseline.
const rolloutDevicesOn = preparedQuery('rollout-cohort-devices', (db, p: { rolloutId: string; modelName: string; version: string }) =>
  db
    .selectFrom('device_model_stats as s')
    .innerJoin('rollout_devices as rd', (join) => join.onRef('rd.site_id', '=', 's.site_id').onRef('rd.device_id', '=', 's.device_id'))
    .select(sums)
    .where('rd.rollout_id', '=', p.rolloutId)
    .where('rd.state', '=', 'active')
    .where('s.model_name', '=', p.modelName)
    .where('s.model_version', '=', p.version),
);

// Every enrolled device of the group on one version: the baseline when the rollout's own devices have too little.
const groupDevicesOn = preparedQuery('rollout-cohort-group', (db, p: { fleetGroup: string; modelName: string; version: string }) =>
  db
    .selectFrom('device_model_stats as s')
    .innerJoin('device_credentials as c', (join) => join.onRef('c.site_id', '=', 's.site_id').onRef('c.device_id', '=', 's.device_id'))
    .select(sums)
    .where('c.fleet_group', '=', p.fleetGroup)
    .where('c.revoked_at', 'is', null)
    .where('s.model_name', '=', p.modelName)
    .where('s.model_version', '=', p.version),
);

// The group's boxes on the old version that ran the candidate beside it, in shadow.
const groupShadowOf = preparedQuery('rollout-cohort-shadow', (db, p: { fleetGroup: string; modelName: string; version: string; shadowVersion: string }) =>
  db
    .selectFrom('device_model_stats as s')
    .innerJoin('device_credentials as c', (join) => join.onRef('c.site_id', '=', 's.site_id').onRef('c.device_id', '=', 's.device_id'))
    .select((eb) => [eb.fn.sum<string | null>('s.shadow_compared').as('compared'), eb.fn.sum<string | null>('s.shadow_disagreed').as('disagreed')])
    .where('c.fleet_group', '=', p.fleetGroup)
    .where('c.revoked_at', 'is', null)
    .where('s.model_name', '=', p.modelName)
    .where('s.model_version', '=', p.version)
    .where('s.shadow_version', '=', p.shadowVersion),
);

type SumsRow = Awaited<ReturnType<typeof rolloutDevicesOn.executeOn>>['rows'][number];

function toCohort(row: SumsRow | undefined): CohortStats {
  if (!row || row.devices === 0) return EMPTY_COHORT;
  return {
    devices: row.devices,
    inspections: Number(row.inspections ?? 0),
    errors: Number(row.errors ?? 0),
    rejects: Number(row.rejects ?? 0),
    uncertain: Number(row.uncertain ?? 0),
    confidenceHistogram: row.histogram?.map(Number) ?? EMPTY_COHORT.confidenceHistogram,
    p99Ms: row.p99_ms ?? 0,
    shadowCompared: Number(row.shadow_compared ?? 0),
    shadowDisagreed: Number(row.shadow_disagreed ?? 0),
  };
}

/**
 * The two cohorts a stage's gates compare: the rollout's devices on the new
 * version, and, as the baseline, the same devices' own counters from when
 * they ran the old version (same stations, same kind of parts). When those
 * are too thin, the baseline is every device of the group on the old version.
 * With shadow gates, the baseline's shadow counts are those of the group's
 * boxes on the old version that ran the new one in shadow. Runs on the
 * caller's transaction.
 */
export async function cohortsOf(
  db: PgQueryable,
  rollout: { id: string; modelName: string; fromVersion: number; toVersion: number; fleetGroup: string },
  gates: RolloutGates,
): Promise<Cohorts> {
  const { modelName, fleetGroup } = rollout;
  const from = String(rollout.fromVersion);
  const { rows: candidate } = await rolloutDevicesOn.executeOn(db, { rolloutId: rollout.id, modelName, version: String(rollout.toVersion) });
  const { rows: sameDevices } = await rolloutDevicesOn.executeOn(db, { rolloutId: rollout.id, modelName, version: from });
  const own = toCohort(sameDevices[0]);
  let cohorts: Cohorts;
  if (own.inspections >= gates.minInspections) {
    cohorts = { candidate: toCohort(candidate[0]), baseline: own, baselineFrom: 'same-devices' };
  } else {
    const { rows: group } = await groupDevicesOn.executeOn(db, { fleetGroup, modelName, version: from });
    cohorts = { candidate: toCohort(candidate[0]), baseline: toCohort(group[0]), baselineFrom: 'fleet-group' };
  }
  if (!gates.shadow) return cohorts;
  const { rows: shadow } = await groupShadowOf.executeOn(db, { fleetGroup, modelName, version: from, shadowVersion: String(rollout.toVersion) });
  return {
    ...cohorts,
    baseline: { ...cohorts.baseline, shadowCompared: Number(shadow[0]?.compared ?? 0), shadowDisagreed: Number(shadow[0]?.disagreed ?? 0) },
  };
}
