import { randomUUID } from 'node:crypto';
import { trainingRunListResponseSchema, trainingRunSchema, type TrainingRunDto } from '@loupe/api-contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCloud } from '../cloud-runtime';
import { pcbAoiPackage } from '../testing/model-packages';
import { startTestCloud, type TestCloud } from '../testing/test-cloud';
import { TEST_ADMIN_PASSWORD } from '../testing/test-cloud-config';

describe('training runs over REST', () => {
  let testCloud: TestCloud;
  let cloud: RunningCloud;
  let token: string;
  let projectId: string;

  async function call(method: string, path: string, body?: unknown) {
    const response = await fetch(`${cloud.httpUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  beforeAll(async () => {
    testCloud = await startTestCloud();
    cloud = testCloud.cloud;
    const login = await fetch(`${cloud.httpUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@loupe.test', password: TEST_ADMIN_PASSWORD }),
    });
    token = ((await login.json()) as { token: string }).token;
    const pushed = await fetch(`${cloud.httpUrl}/api/models`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-tar' },
      body: await pcbAoiPackage(testCloud.dataDir, { signer: testCloud.publisher }),
    });
    expect(pushed.status).toBe(201);
    const project = await call('POST', '/api/projects', { name: 'boards', modelName: 'pcb-aoi', task: 'classification', classes: ['Defective', 'Normal'] });
    projectId = String(project.body.id);
  });
  afterAll(async () => {
    await testCloud?.stop();
  });

  it('queues a run on the backbone named, with the default recipe, started by the caller', async () => {
    const started = await call('POST', `/api/projects/${projectId}/training-runs`, { backbone: { model: 'pcb-aoi', version: 1 } });
    expect(started.status).toBe(201);
    const run = trainingRunSchema.parse(started.body);
    expect(run).toMatchObject({ projectId, modelName: 'pcb-aoi', state: 'queued', trigger: 'manual', startedBy: 'Administrator', backbone: { model: 'pcb-aoi', version: 1 }, attempts: 0 });
    expect(run.recipe.l2Candidates.length).toBeGreaterThan(0);
    expect((await call('GET', `/api/training-runs/${run.id}`)).body).toEqual(started.body);
    const listed = trainingRunListResponseSchema.parse((await call('GET', `/api/projects/${projectId}/training-runs`)).body);
    expect(listed.runs.map((entry: TrainingRunDto) => entry.id)).toContain(run.id);
  });

  it('cancels a queued run once; cancelling it again is a conflict', async () => {
    const run = (await call('POST', `/api/projects/${projectId}/training-runs`, { backbone: { model: 'pcb-aoi', version: 1 } })).body;
    const cancelled = await call('POST', `/api/training-runs/${String(run.id)}/cancel`);
    expect(cancelled).toMatchObject({ status: 200, body: { state: 'cancelled' } });
    expect(await call('POST', `/api/training-runs/${String(run.id)}/cancel`)).toMatchObject({ status: 409, body: { error: 'run-finished' } });
  });

  it('refuses a backbone the registry lacks, and the default while it is not pushed', async () => {
    expect(await call('POST', `/api/projects/${projectId}/training-runs`, { backbone: { model: 'pcb-aoi', version: 9 } })).toMatchObject({
      status: 422,
      body: { error: 'no-backbone', message: 'backbone pcb-aoi version 9 is not in the registry' },
    });
    expect(await call('POST', `/api/projects/${projectId}/training-runs`, {})).toMatchObject({ status: 422, body: { error: 'no-backbone' } });
  });

  it('answers 404 for an unknown project or run, and 400 naming a bad recipe field', async () => {
    expect((await call('POST', `/api/projects/${randomUUID()}/training-runs`, {})).status).toBe(404);
    expect((await call('GET', `/api/projects/${randomUUID()}/training-runs`)).status).toBe(404);
    expect((await call('GET', `/api/training-runs/${randomUUID()}`)).status).toBe(404);
    const invalid = await call('POST', `/api/projects/${projectId}/training-runs`, { recipe: { maxIterations: 1 } });
    expect(invalid.status).toBe(400);
    expect(String(invalid.body.message)).toMatch(/recipe\.maxIterations/);
  });
});
