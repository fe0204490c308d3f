import { startTestDatabase, uniqueName, type TestDatabase } from '@loupe/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../database/database';
import type { DesiredStateRecord } from './desired-state-record';
import { DeviceModelStates } from './device-model-states';
import type { ReportedStateRecord } from './reported-state-payload';

const model = (version: string) => ({
  model: { name: 'pcb-aoi', version, sha256: 'a'.repeat(64) },
  package: { url: `/api/models/pcb-aoi/versions/${version}/package`, size: 1, sha256: 'b'.repeat(64) },
  signature: { keyId: 'k', value: 'c2lnbmF0dXJl' },
});

const report = (generation: number, reportedAt: string, status: ReportedStateRecord['status'] = 'ACTIVE'): ReportedStateRecord => ({
  generation,
  reportedAt,
  status,
  active: null,
  staged: null,
  previous: null,
  error: '',
  provider: 'cpu',
  runningSha256: '',
  rolloutId: '',
  crashes: 0,
});

describe('DeviceModelStates', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let states: DeviceModelStates;

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: testDatabase.maxConnections, migrate: true }, pino({ level: 'silent' }));
    states = new DeviceModelStates(database.db);
  });
  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
  });

  const reported = async (siteId: string, deviceId: string) =>
    (
      await database.db
        .selectFrom('device_model_states')
        .select(['reported_generation', 'reported'])
        .where('site_id', '=', siteId)
        .where('device_id', '=', deviceId)
        .executeTakeFirst()
    )?.reported as ReportedStateRecord | undefined;

  it('gives each desired state a generation above any the device has seen or answered', async () => {
    const siteId = uniqueName('site');
    const devices = [
      { siteId, deviceId: 'a' },
      { siteId, deviceId: 'b' },
    ];
    const first: DesiredStateRecord = { model: model('1'), rolloutId: uniqueName('rollout') };
    expect(await states.desire(database.pool, devices, first)).toEqual(devices.map((d) => ({ ...d, generation: 1, desired: first })));
    await states.recordReported([{ siteId, deviceId: 'b', report: report(7, '2026-12-01T10:00:00.000Z') }]);
    const second: DesiredStateRecord = { model: model('2'), rolloutId: first.rolloutId };
    const rows = await states.desire(database.pool, devices, second);
    expect(rows.map((row) => [row.deviceId, row.generation]).sort()).toEqual([
      ['a', 2],
      ['b', 8],
    ]);
    expect(await states.desire(database.pool, [], second)).toEqual([]);
  });

  it('keeps the newest report: a higher generation, or a later one of the same generation', async () => {
    const device = { siteId: uniqueName('site'), deviceId: 'c' };
    await states.recordReported([{ ...device, report: report(2, '2026-12-01T10:00:01.000Z', 'ACTIVE') }]);
    await states.recordReported([{ ...device, report: report(1, '2026-12-01T10:00:05.000Z', 'FAILED') }]);
    await states.recordReported([{ ...device, report: report(2, '2026-12-01T10:00:00.000Z', 'VERIFYING') }]);
    expect((await reported(device.siteId, device.deviceId))?.status).toBe('ACTIVE');
    await states.recordReported([{ ...device, report: report(2, '2026-12-01T10:00:02.000Z', 'ROLLED_BACK') }]);
    expect((await reported(device.siteId, device.deviceId))?.status).toBe('ROLLED_BACK');
  });

  it("keeps each device's newest report of a group that holds several of them, in any order", async () => {
    const siteId = uniqueName('site');
    await states.recordReported([
      { siteId, deviceId: 'd', report: report(3, '2026-12-01T10:00:02.000Z', 'ACTIVE') },
      { siteId, deviceId: 'e', report: report(1, '2026-12-01T10:00:00.000Z', 'DOWNLOADING') },
      { siteId, deviceId: 'd', report: report(3, '2026-12-01T10:00:01.000Z', 'VERIFYING') },
      { siteId, deviceId: 'e', report: report(1, '2026-12-01T10:00:03.000Z', 'ACTIVE') },
      { siteId, deviceId: 'd', report: report(2, '2026-12-01T10:00:09.000Z', 'FAILED') },
    ]);
    expect((await reported(siteId, 'd'))?.status).toBe('ACTIVE');
    expect((await reported(siteId, 'e'))?.status).toBe('ACTIVE');
  });

  it("lists a rollout's desired states its devices have not answered", async () => {
    const siteId = uniqueName('site');
    const desired: DesiredStateRecord = { model: model('3'), rolloutId: uniqueName('rollout') };
    await states.desire(database.pool, [
      { siteId, deviceId: 'quiet' },
      { siteId, deviceId: 'answered' },
    ], desired);
    await states.recordReported([{ siteId, deviceId: 'answered', report: report(1, '2026-12-01T10:00:00.000Z') }]);
    expect(await states.unanswered(desired.rolloutId, 60_000)).toEqual([]);
    expect(await states.unanswered(desired.rolloutId, 0)).toEqual([{ siteId, deviceId: 'quiet', generation: 1, desired }]);
  });
});
