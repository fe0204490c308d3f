import { randomUUID } from 'node:crypto';
import { startTestDatabase, uniqueName, type TestDatabase } from '@loupe/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../database/database';
import { cohortsOf } from './cohort-stats.repository';
import { parseRolloutPlan } from './rollout-plan';

describe('cohortsOf', () => {
  let testDatabase: TestDatabase;
  let database: Database;

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: testDatabase.maxConnections, migrate: true }, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
  });

  /** A group of three boxes: two in the rollout and active, one outside it; counters on versions 1 and 2. */
  async function rolloutOfThree() {
    const group = uniqueName('group');
    const rollout = { id: randomUUID(), modelName: 'pcb-aoi', fromVersion: 1, toVersion: 2, fleetGroup: group };
    const { pool } = database;
    await pool.query(`INSERT INTO rollouts (id, model_name, from_version, to_version, fleet_group, plan, state, created_by) VALUES ($1, 'pcb-aoi', 1, 2, $2, '{}', 'running', $3)`, [
      rollout.id,
      group,
      randomUUID(),
    ]);
    for (const [device, inRollout] of [['a', true], ['b', true], ['c', false]] as const) {
      await pool.query(`INSERT INTO device_credentials (site_id, device_id, secret_hash, fleet_group) VALUES ($1, $2, 'x', $3)`, [group, device, group]);
      if (inRollout) await pool.query(`INSERT INTO rollout_devices (rollout_id, site_id, device_id, stage, state) VALUES ($1, $2, $3, 0, 'active')`, [rollout.id, group, device]);
    }
    const stats = async (device: string, version: string, inspections: number, uncertain: number, p99: number, shadow: string | null = null) =>
      pool.query(
        `INSERT INTO device_model_stats (site_id, device_id, model_name, model_version, inspections, errors, rejects, uncertain, confidence_histogram, p99_ms, shadow_version, shadow_compared, shadow_disagreed, updated_at)
         VALUES ($1, $2, 'pcb-aoi', $3, $4, 1, 2, $5, $6, $7, $8, 10, 3, now())`,
        [group, device, version, inspections, uncertain, [inspections, 0, 0, 0, 0, 0, 0, 0, 0, 1], p99, shadow],
      );
    await stats('a', '2', 100, 4, 12);
    await stats('b', '2', 50, 2, 30);
    await stats('a', '1', 40, 1, 10);
    await stats('c', '1', 300, 3, 8, '2');
    return rollout;
  }

  it("sums the candidate's counters bin by bin and takes the worst p99", async () => {
    const rollout = await rolloutOfThree();
    const cohorts = await cohortsOf(database.pool, rollout, parseRolloutPlan({ stages: [{ name: 'all', percent: 100 }], gates: { minInspections: 10 } }).gates);
    expect(cohorts.candidate).toEqual({
      devices: 2,
      inspections: 150,
      errors: 2,
      rejects: 4,
      uncertain: 6,
      confidenceHistogram: [150, 0, 0, 0, 0, 0, 0, 0, 0, 2],
      p99Ms: 30,
      shadowCompared: 20,
      shadowDisagreed: 6,
    });
    expect(cohorts).toMatchObject({ baselineFrom: 'same-devices', baseline: { devices: 1, inspections: 40 } });
  });

  it("falls back to the whole group's boxes on the old version, and counts their shadow comparisons", async () => {
    const rollout = await rolloutOfThree();
    const gates = parseRolloutPlan({ stages: [{ name: 'all', percent: 100 }], gates: { minInspections: 200, shadow: true } }).gates;
    const cohorts = await cohortsOf(database.pool, rollout, gates);
    expect(cohorts.baselineFrom).toBe('fleet-group');
    expect(cohorts.baseline).toMatchObject({ devices: 2, inspections: 340, uncertain: 4, p99Ms: 10, shadowCompared: 10, shadowDisagreed: 3 });
    expect(cohorts.baseline.confidenceHistogram).toEqual([340, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
  });
});
