import { startTestDatabase, type TestDatabase } from '@loupe/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../database/database';
import { PostgresDeviceRepository } from './device.repository';

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
    repository = new PostgresDeviceRepository(database.db);
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
    await repository.recordSighting(sighting('first', '2026-11-22T10:00:00Z'));
    const device = (await repository.list()).find((d) => d.deviceId === 'first');
    expect(device).toEqual({
      siteId: 'plant-7',
      deviceId: 'first',
      agentVersion: '0.1.0',
      model: { name: 'pcb-aoi', version: '3' },
      provider: 'cpu',
      firstSeenAt: new Date('2026-11-22T10:00:00Z'),
      lastSeenAt: new Date('2026-11-22T10:00:00Z'),
    });
  });

  it('moves last-seen forward and keeps first-seen', async () => {
    await repository.recordSighting(sighting('moving', '2026-11-22T10:00:00Z'));
    await repository.recordSighting(sighting('moving', '2026-11-22T10:00:10Z', '0.2.0'));
    const device = (await repository.list()).find((d) => d.deviceId === 'moving');
    expect(device).toMatchObject({
      agentVersion: '0.2.0',
      firstSeenAt: new Date('2026-11-22T10:00:00Z'),
      lastSeenAt: new Date('2026-11-22T10:00:10Z'),
    });
  });

  it('ignores a sighting older than the one it has', async () => {
    await repository.recordSighting(sighting('late', '2026-11-22T10:00:10Z', '0.2.0'));
    await repository.recordSighting(sighting('late', '2026-11-22T10:00:05Z', '0.1.0'));
    const device = (await repository.list()).find((d) => d.deviceId === 'late');
    expect(device).toMatchObject({ agentVersion: '0.2.0', lastSeenAt: new Date('2026-11-22T10:00:10Z') });
  });

  it('keeps devices of different sites apart', async () => {
    await repository.recordSighting({ ...sighting('twin', '2026-11-22T10:00:00Z'), siteId: 'plant-8' });
    await repository.recordSighting(sighting('twin', '2026-11-22T10:00:00Z'));
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
    await repository.recordSighting({ ...sighting('counting', '2026-11-22T10:00:10Z'), modelStats: stats(50) });
    await repository.recordSighting({ ...sighting('counting', '2026-11-22T10:00:00Z'), modelStats: stats(20) });
    const { rows } = await database.pool.query<{ inspections: string; confidence_histogram: string[] }>(
      `SELECT inspections, confidence_histogram FROM device_model_stats WHERE device_id = 'counting' AND model_version = '3'`,
    );
    expect(rows).toEqual([{ inspections: '50', confidence_histogram: ['0', '0', '0', '0', '0', '0', '0', '0', '0', '50'] }]);
  });
});
