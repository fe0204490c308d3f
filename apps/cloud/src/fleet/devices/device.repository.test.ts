import { startTestDatabase, uniqueName, type TestDatabase } from '@loupe/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../database/database';
import { DeviceModelStates } from '../state/device-model-states';
import type { ReportedStateRecord } from '../state/reported-state-payload';
import { PostgresDeviceRepository, type DeviceSighting } from './device.repository';

describe('PostgresDeviceRepository', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let repository: PostgresDeviceRepository;

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase(
      { url: testDatabase.url, poolSize: testDatabase.maxConnections, migrate: true },
      pino({ level: 'silent' }),
    );
    repository = new PostgresDeviceRepository(database);
  });
  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
  });

  const sighting = (deviceId: string, seenAt: string, agentVersion = '0.1.0') => ({
    siteId: 'plant-7',
    deviceId,
    agentVersion,
    model: { name: 'pcb-aoi', version: '3' },
    provider: 'cpu',
    modelStats: null,
    seenAt: new Date(seenAt),
  });

  it('creates a device, and its site, on the first sighting', async () => {
    await repository.recordSightings([sighting('first', '2026-11-22T10:00:00Z')]);
    const device = (await repository.list()).find((d) => d.deviceId === 'first');
    expect(device).toMatchObject({ siteId: 'plant-7', deviceId: 'first', enrollment: null });
    expect(device?.telemetry).toEqual({
      agentVersion: '0.1.0',
      model: { name: 'pcb-aoi', version: '3' },
      provider: 'cpu',
      firstSeenAt: new Date('2026-11-22T10:00:00Z'),
      lastSeenAt: new Date('2026-11-22T10:00:00Z'),
    });
  });

  it('moves last-seen forward and keeps first-seen', async () => {
    await repository.recordSightings([sighting('moving', '2026-11-22T10:00:00Z')]);
    await repository.recordSightings([sighting('moving', '2026-11-22T10:00:10Z', '0.2.0')]);
    const device = (await repository.list()).find((d) => d.deviceId === 'moving');
    expect(device?.telemetry).toMatchObject({
      agentVersion: '0.2.0',
      firstSeenAt: new Date('2026-11-22T10:00:00Z'),
      lastSeenAt: new Date('2026-11-22T10:00:10Z'),
    });
  });

  it('ignores a sighting older than the one it has', async () => {
    await repository.recordSightings([sighting('late', '2026-11-22T10:00:10Z', '0.2.0')]);
    await repository.recordSightings([sighting('late', '2026-11-22T10:00:05Z', '0.1.0')]);
    const device = (await repository.list()).find((d) => d.deviceId === 'late');
    expect(device?.telemetry).toMatchObject({ agentVersion: '0.2.0', lastSeenAt: new Date('2026-11-22T10:00:10Z') });
  });

  it('keeps devices of different sites apart', async () => {
    await repository.recordSightings([{ ...sighting('twin', '2026-11-22T10:00:00Z'), siteId: 'plant-8' }]);
    await repository.recordSightings([sighting('twin', '2026-11-22T10:00:00Z')]);
    const twins = (await repository.list()).filter((d) => d.deviceId === 'twin');
    expect(twins.map((d) => d.siteId)).toEqual(['plant-7', 'plant-8']);
  });

  it('keeps the newest model stats per device and version, whatever order they arrive in', async () => {
    const stats = (inspections: number) => ({
      modelName: 'pcb-aoi',
      modelVersion: '3',
      inspections,
      errors: 0,
      rejects: 1,
      uncertain: 2,
      confidenceHistogram: [0, 0, 0, 0, 0, 0, 0, 0, 0, inspections],
      p99Ms: 12,
      shadowVersion: null,
      shadowCompared: 0,
      shadowDisagreed: 0,
    });
    await repository.recordSightings([{ ...sighting('counting', '2026-11-22T10:00:10Z'), modelStats: stats(50) }]);
    await repository.recordSightings([{ ...sighting('counting', '2026-11-22T10:00:00Z'), modelStats: stats(20) }]);
    const { rows } = await database.pool.query<{ inspections: string; confidence_histogram: string[] }>(
      `SELECT inspections, confidence_histogram FROM device_model_stats WHERE device_id = 'counting' AND model_version = '3'`,
    );
    expect(rows).toEqual([{ inspections: '50', confidence_histogram: ['0', '0', '0', '0', '0', '0', '0', '0', '0', '50'] }]);
  });

  it("keeps each device's newest sighting and stats of a group that holds several, on new and known sites", async () => {
    const stats = (version: string, inspections: number) => ({
      modelName: 'pcb-aoi',
      modelVersion: version,
      inspections,
      errors: 0,
      rejects: 0,
      uncertain: 0,
      confidenceHistogram: [inspections, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      p99Ms: 3.5,
      shadowVersion: version === '4' ? '5' : null,
      shadowCompared: 1,
      shadowDisagreed: 0,
    });
    await repository.recordSightings([
      { ...sighting('grouped', '2026-11-22T11:00:05Z', '0.3.0'), modelStats: stats('3', 30) },
      { ...sighting('grouped', '2026-11-22T11:00:00Z', '0.2.0'), modelStats: stats('3', 10) },
      { ...sighting('grouped', '2026-11-22T11:00:01Z', '0.2.0'), modelStats: stats('4', 7) },
      { ...sighting('grouped', '2026-11-22T11:00:00Z'), siteId: 'plant-9' },
    ]);
    const devices = (await repository.list()).filter((d) => d.deviceId === 'grouped');
    expect(devices.map((d) => [d.siteId, d.telemetry?.agentVersion, d.telemetry?.lastSeenAt])).toEqual([
      ['plant-7', '0.3.0', new Date('2026-11-22T11:00:05Z')],
      ['plant-9', '0.1.0', new Date('2026-11-22T11:00:00Z')],
    ]);
    const { rows } = await database.pool.query<{ model_version: string; inspections: string; confidence_histogram: string[]; shadow_version: string | null }>(
      `SELECT model_version, inspections, confidence_histogram, shadow_version FROM device_model_stats WHERE device_id = 'grouped' ORDER BY model_version`,
    );
    expect(rows).toEqual([
      { model_version: '3', inspections: '30', confidence_histogram: ['30', '0', '0', '0', '0', '0', '0', '0', '0', '0'], shadow_version: null },
      { model_version: '4', inspections: '7', confidence_histogram: ['7', '0', '0', '0', '0', '0', '0', '0', '0', '0'], shadow_version: '5' },
    ]);
  });
});

describe('PostgresDeviceRepository.list, the one read of every device', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let repository: PostgresDeviceRepository;
  let states: DeviceModelStates;

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: testDatabase.maxConnections, migrate: true }, pino({ level: 'silent' }));
    repository = new PostgresDeviceRepository(database);
    states = new DeviceModelStates(database.db);
  });
  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
  });

  const enroll = (siteId: string, deviceId: string, fleetGroup: string, revoked = false) =>
    database.db
      .insertInto('device_credentials')
      .values({
        site_id: siteId,
        device_id: deviceId,
        secret_hash: 'not-a-secret',
        fleet_group: fleetGroup,
        enrolled_at: new Date('2026-11-22T09:00:00Z'),
        revoked_at: revoked ? new Date('2026-11-22T09:30:00Z') : null,
      })
      .execute();
  const heard = (siteId: string, deviceId: string, version: string | null, modelStats: DeviceSighting['modelStats'] = null) =>
    repository.recordSightings([{
      siteId,
      deviceId,
      agentVersion: '0.3.0',
      model: version === null ? null : { name: 'pcb-aoi', version },
      provider: 'cpu',
      modelStats,
      seenAt: new Date('2026-11-22T10:00:00Z'),
    }]);
  const counters = (version: string, inspections: number) => ({
    modelName: 'pcb-aoi',
    modelVersion: version,
    inspections,
    errors: 1,
    rejects: 2,
    uncertain: 3,
    confidenceHistogram: [0, 0, 0, 0, 0, 0, 0, 0, 1, inspections - 1],
    p99Ms: 14.5,
    shadowVersion: '4',
    shadowCompared: 9,
    shadowDisagreed: 1,
  });
  const sha = (c: string) => c.repeat(64);
  const deployable = (version: string) => ({
    model: { name: 'pcb-aoi', version, sha256: sha('a') },
    package: { url: `/api/fleet/packages/pcb-aoi/${version}`, size: 10, sha256: sha('b') },
  });
  const report: ReportedStateRecord = {
    generation: 1,
    reportedAt: '2026-11-22T10:00:01.000Z',
    status: 'ACTIVE',
    active: { name: 'pcb-aoi', version: '3', sha256: sha('a') },
    staged: null,
    previous: { name: 'pcb-aoi', version: '2', sha256: sha('c') },
    error: '',
    provider: 'cpu',
    runningSha256: sha('a'),
    rolloutId: 'r-1',
    crashes: 0,
  };

  it('joins enrollment, telemetry, desired and reported state and the statistics of the running model, one row per device', async () => {
    const siteId = uniqueName('site');
    await enroll(siteId, 'aoi-1', 'line-a');
    await heard(siteId, 'aoi-1', '3', counters('3', 50));
    // Statistics of a model the device no longer runs are not its current ones.
    await repository.recordSightings([{ ...olderModelSighting('2'), siteId, deviceId: 'aoi-1', seenAt: new Date('2026-11-22T09:59:00Z') }]);
    await states.desire(database.pool, [{ siteId, deviceId: 'aoi-1' }], { model: deployable('3'), rolloutId: 'r-1' });
    await states.recordReported([{ siteId, deviceId: 'aoi-1', report }]);
    const devices = (await repository.list()).filter((device) => device.siteId === siteId);
    expect(devices).toEqual([
      {
        siteId,
        deviceId: 'aoi-1',
        enrollment: { fleetGroup: 'line-a', enrolledAt: new Date('2026-11-22T09:00:00Z'), revoked: false },
        telemetry: {
          agentVersion: '0.3.0',
          model: { name: 'pcb-aoi', version: '3' },
          provider: 'cpu',
          firstSeenAt: new Date('2026-11-22T10:00:00Z'),
          lastSeenAt: new Date('2026-11-22T10:00:00Z'),
        },
        desired: { generation: 1, model: { name: 'pcb-aoi', version: '3', sha256: sha('a') }, rolloutId: 'r-1' },
        reported: {
          generation: 1,
          reportedAt: '2026-11-22T10:00:01.000Z',
          status: 'ACTIVE',
          active: report.active,
          previous: report.previous,
          error: '',
          provider: 'cpu',
          runningSha256: sha('a'),
        },
        stats: { ...withoutModel(counters('3', 50)), updatedAt: new Date('2026-11-22T10:00:00Z') },
      },
    ]);
  });

  it('lists an enrolled device never heard from, and a device heard from that never enrolled, by site and device id', async () => {
    const siteId = uniqueName('site');
    await heard(siteId, 'b-heard', null);
    await enroll(siteId, 'a-enrolled', 'line-b', true);
    const devices = (await repository.list()).filter((device) => device.siteId === siteId);
    expect(devices.map((d) => d.deviceId)).toEqual(['a-enrolled', 'b-heard']);
    expect(devices[0]).toMatchObject({ enrollment: { fleetGroup: 'line-b', revoked: true }, telemetry: null, desired: null, reported: null, stats: null });
    expect(devices[1]).toMatchObject({ enrollment: null, telemetry: { agentVersion: '0.3.0', model: null }, desired: null, reported: null, stats: null });
  });

  it('lists a device that only reported its model state', async () => {
    const siteId = uniqueName('site');
    await states.recordReported([{ siteId, deviceId: 'quiet', report }]);
    const [device] = (await repository.list()).filter((d) => d.siteId === siteId);
    expect(device).toMatchObject({ deviceId: 'quiet', enrollment: null, telemetry: null, reported: { status: 'ACTIVE' } });
  });

  it('lists only the devices enrolled in a fleet group when asked for one', async () => {
    const siteId = uniqueName('site');
    const group = uniqueName('group');
    await enroll(siteId, 'in-1', group);
    await enroll(siteId, 'in-2', group);
    await enroll(siteId, 'other', uniqueName('group'));
    await heard(siteId, 'unenrolled', '3');
    expect((await repository.list(group)).map((d) => `${d.siteId}/${d.deviceId}`)).toEqual([`${siteId}/in-1`, `${siteId}/in-2`]);
    expect(await repository.list(uniqueName('empty'))).toEqual([]);
  });
});

/** A sighting of a model the device ran before, with its statistics. */
function olderModelSighting(version: string) {
  return {
    agentVersion: '0.3.0',
    model: { name: 'pcb-aoi', version },
    provider: 'cpu',
    modelStats: {
      modelName: 'pcb-aoi',
      modelVersion: version,
      inspections: 7,
      errors: 0,
      rejects: 0,
      uncertain: 0,
      confidenceHistogram: [0, 0, 0, 0, 0, 0, 0, 0, 0, 7],
      p99Ms: 10,
      shadowVersion: null,
      shadowCompared: 0,
      shadowDisagreed: 0,
    },
  };
}

function withoutModel<T extends { modelName: string; modelVersion: string }>({ modelName: _name, modelVersion: _version, ...rest }: T) {
  return rest;
}
