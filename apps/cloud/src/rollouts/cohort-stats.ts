import type pg from 'pg';
import { CONFIDENCE_BINS } from '@loupe/device-state';
import { EMPTY_COHORT, type CohortStats } from './cohort-gates';
import type { RolloutGates } from './rollout-plan';

export interface Cohorts {
  candidate: CohortStats;
  baseline: CohortStats;
  /** `same-devices` when the stage's own devices ran the old version long enough to compare; else `fleet-group`. */
  baselineFrom: 'same-devices' | 'fleet-group';
}

interface StatsRow {
  devices: number;
  inspections: string | null;
  errors: string | null;
  rejects: string | null;
  uncertain: string | null;
  histogram: string[] | null;
  p99_ms: number | null;
  shadow_compared: string | null;
  shadow_disagreed: string | null;
}

// Element-wise sum of the histograms, beside the plain sums.
const SUMS = `
  count(*)::int AS devices, sum(inspections) AS inspections, sum(errors) AS errors, sum(rejects) AS rejects,
  sum(uncertain) AS uncertain, max(p99_ms) AS p99_ms, sum(shadow_compared) AS shadow_compared, sum(shadow_disagreed) AS shadow_disagreed,
  (SELECT array_agg(total ORDER BY bin) FROM (
     SELECT bin, sum(value) AS total FROM unnest(array_agg(confidence_histogram)) WITH ORDINALITY AS all_bins(value, n)
     CROSS JOIN LATERAL (SELECT ((n - 1) % ${CONFIDENCE_BINS}) AS bin) AS b GROUP BY bin) AS per_bin) AS histogram`;

function toCohort(row: StatsRow | undefined): CohortStats {
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
 * boxes on the old version that ran the new one in shadow.
 */
export async function cohortsOf(
  db: Pick<pg.PoolClient, 'query'>,
  rollout: { id: string; modelName: string; fromVersion: number; toVersion: number; fleetGroup: string },
  gates: RolloutGates,
): Promise<Cohorts> {
  const { rows: candidate } = await db.query<StatsRow>(
    `SELECT ${SUMS} FROM device_model_stats s
     JOIN rollout_devices rd ON rd.site_id = s.site_id AND rd.device_id = s.device_id
     WHERE rd.rollout_id = $1 AND rd.state = 'active' AND s.model_name = $2 AND s.model_version = $3`,
    [rollout.id, rollout.modelName, String(rollout.toVersion)],
  );
  const { rows: sameDevices } = await db.query<StatsRow>(
    `SELECT ${SUMS} FROM device_model_stats s
     JOIN rollout_devices rd ON rd.site_id = s.site_id AND rd.device_id = s.device_id
     WHERE rd.rollout_id = $1 AND rd.state = 'active' AND s.model_name = $2 AND s.model_version = $3`,
    [rollout.id, rollout.modelName, String(rollout.fromVersion)],
  );
  const own = toCohort(sameDevices[0]);
  let cohorts: Cohorts;
  if (own.inspections >= gates.minInspections) {
    cohorts = { candidate: toCohort(candidate[0]), baseline: own, baselineFrom: 'same-devices' };
  } else {
    const { rows: group } = await db.query<StatsRow>(
      `SELECT ${SUMS} FROM device_model_stats s
       JOIN device_credentials c ON c.site_id = s.site_id AND c.device_id = s.device_id
       WHERE c.fleet_group = $1 AND c.revoked_at IS NULL AND s.model_name = $2 AND s.model_version = $3`,
      [rollout.fleetGroup, rollout.modelName, String(rollout.fromVersion)],
    );
    cohorts = { candidate: toCohort(candidate[0]), baseline: toCohort(group[0]), baselineFrom: 'fleet-group' };
  }
  if (!gates.shadow) return cohorts;
  // Shadow comparisons come from the boxes still on the old version that ran the candidate beside it.
  const { rows: shadow } = await db.query<{ compared: string | null; disagreed: string | null }>(
    `SELECT sum(shadow_compared) AS compared, sum(shadow_disagreed) AS disagreed FROM device_model_stats s
     JOIN device_credentials c ON c.site_id = s.site_id AND c.device_id = s.device_id
     WHERE c.fleet_group = $1 AND c.revoked_at IS NULL AND s.model_name = $2 AND s.model_version = $3 AND s.shadow_version = $4`,
    [rollout.fleetGroup, rollout.modelName, String(rollout.fromVersion), String(rollout.toVersion)],
  );
  return {
    ...cohorts,
    baseline: { ...cohorts.baseline, shadowCompared: Number(shadow[0]?.compared ?? 0), shadowDisagreed: Number(shadow[0]?.disagreed ?? 0) },
  };
}
