import { randomUUID } from 'node:crypto';
import { startTestDatabase, uniqueName, type TestDatabase } from '@loupe/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../database/database';
import { ProjectNotFoundError, ProjectRepository, ProjectTakenError } from './project.repository';

describe('ProjectRepository', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let projects: ProjectRepository;

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: testDatabase.maxConnections, migrate: true }, pino({ level: 'silent' }));
    projects = new ProjectRepository(database);
  });
  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
  });

  const request = (modelName = uniqueName('model')) => ({
    name: uniqueName('project'),
    modelName,
    task: 'detection' as const,
    classes: ['scratch', 'void'],
    consensus: 2,
  });

  it('creates a project with its classes, and queues the samples of its model stored before', async () => {
    const project = request();
    const sampleId = randomUUID();
    await database.db
      .insertInto('samples')
      .values({
        id: sampleId,
        site_id: 's',
        device_id: 'd',
        station_id: 'st',
        unit_serial: 'u',
        captured_at: new Date(),
        model_name: project.modelName,
        model_version: '1',
        verdict: 'pass',
        prediction: '{}',
        priority: 0.5,
        reason: 'uncertain',
        image_key: 'k',
        image_sha256: 'a'.repeat(64),
        image_bytes: 1,
        image_media_type: 'image/jpeg',
      })
      .execute();
    const created = await projects.create(project);
    expect(await projects.get(created.id)).toEqual(created);
    expect((await projects.list()).filter((each) => each.id === created.id)).toEqual([created]);
    const queued = await database.db.selectFrom('label_tasks').select(['sample_id', 'priority', 'state']).where('project_id', '=', created.id).execute();
    expect(queued).toEqual([{ sample_id: sampleId, priority: 0.5, state: 'open' }]);
  });

  it('refuses a second project with the name or the model of one that exists, and names an unknown id', async () => {
    const first = request();
    await projects.create(first);
    await expect(projects.create({ ...request(), name: first.name })).rejects.toBeInstanceOf(ProjectTakenError);
    await expect(projects.create(request(first.modelName))).rejects.toBeInstanceOf(ProjectTakenError);
    await expect(projects.get(randomUUID())).rejects.toBeInstanceOf(ProjectNotFoundError);
  });
});
