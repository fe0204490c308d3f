import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainingPolicySchema } from '@loupe/api-contracts';
import { startTestDatabase, type TestDatabase } from '@loupe/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../database/database';
import { candidateOf, openPromotionStack, seedServingProject, type PromotionStack } from '../testing/promotion-fixture';
import { PromotionConflictError } from './promotion.errors';

describe('a training run candidate, from push to promotion, on Postgres and a blob folder', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let scratch: string;
  let stack: PromotionStack;

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: 4, migrate: true }, pino({ level: 'silent' }));
    scratch = await mkdtemp(join(tmpdir(), 'loupe-promotion-'));
    stack = await openPromotionStack(database, scratch);
  }, 60_000);
  afterAll(async () => {
    await database?.close();
    await testDatabase?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const serving = (fleetGroup: string) => seedServingProject(database, stack, scratch, { fleetGroup });
  const setPolicy = (project: { projectId: string; engineer: { id: string }; fleetGroup: string }, promotion: 'approval' | 'auto-rollout') =>
    stack.policies.put(project.projectId, trainingPolicySchema.parse({ promotion, margin: 0.02, fleetGroup: project.fleetGroup }), project.engineer.id);
  const rolloutsOf = async (modelName: string) =>
    database.db.selectFrom('rollouts').select(['id', 'state', 'from_version', 'to_version', 'fleet_group']).where('model_name', '=', modelName).execute();

  it('pushes the candidate signed by the trainer, validated on its golden samples, with its lineage; a loser is kept and never rolls out', async () => {
    const project = await serving('line-lost');
    await setPolicy(project, 'auto-rollout');
    const candidate = await candidateOf(project, { challenger: 0.7, champion: 0.8 });

    const published = await stack.publisher.publish(candidate);

    expect(published).toEqual({ candidateVersion: 2, decision: 'lost', rolloutId: null });
    const version = await stack.registry.show(project.modelName, 2);
    expect(version).toMatchObject({
      parentVersion: 1,
      metrics: { accuracy: 0.7, macroF1: 0.7, calibrationError: 0.04 },
      validation: { provider: 'cpu', goldenSamples: 2 },
      author: project.engineer.email,
      lineage: {
        trainingRunId: candidate.runId,
        projectId: project.projectId,
        dataset: candidate.dataset,
        backbone: { model: 'squeezenet', version: 1 },
        recipe: candidate.recipe,
        challenger: { macroF1: 0.7 },
        champion: { version: 1, macroF1: 0.8 },
        trigger: 'manual',
        startedBy: 'someone@example.com',
      },
    });
    // Stored as the registry signed it: the trainer's key only let it in.
    expect(version.manifest.signature?.keyId).toBe(stack.keys.signing.keyId);
    expect(await rolloutsOf(project.modelName)).toEqual([]);
    const promotion = await stack.promotions.show(candidate.runId);
    expect(promotion.events).toEqual([
      expect.objectContaining({
        actor: 'policy',
        decision: 'lost',
        reason: expect.stringMatching(/gained -0\.1000, less than the margin 0\.0200/) as unknown,
        detail: expect.objectContaining({ challengerMacroF1: 0.7, championMacroF1: 0.8, championVersion: 1, margin: 0.02, testSamples: 40 }) as unknown,
      }),
    ]);
    await expect(stack.promotions.approve(candidate.runId, project.engineer, 'ship it anyway')).rejects.toThrow(PromotionConflictError);
    expect(await rolloutsOf(project.modelName)).toEqual([]);
  });

  it('starts a canary at once for a winner under auto-rollout, on behalf of who set the policy', async () => {
    const project = await serving('line-auto');
    await setPolicy(project, 'auto-rollout');

    const published = await stack.publisher.publish(await candidateOf(project, { challenger: 0.9, champion: 0.8 }));

    expect(published).toMatchObject({ candidateVersion: 2, decision: 'rollout-started', rolloutId: expect.any(String) as unknown });
    expect(await rolloutsOf(project.modelName)).toEqual([{ id: published.rolloutId, state: 'running', from_version: 1, to_version: 2, fleet_group: 'line-auto' }]);
    const rollout = await stack.rollouts.get(published.rolloutId!);
    expect(rollout.createdBy).toBe(project.engineer.id);
    expect(rollout.plan.stages.map((stage) => stage.name)).toEqual(['canary', 'all']);
    expect(rollout.devices.filter((device) => device.stage === 0)).toHaveLength(1);
  });

  it('keeps a winner waiting under approval; approval starts its canary and is logged, a second decision is refused', async () => {
    const project = await serving('line-approval');
    await setPolicy(project, 'approval');
    const candidate = await candidateOf(project, { challenger: 0.85, champion: 0.8 });

    expect(await stack.publisher.publish(candidate)).toEqual({ candidateVersion: 2, decision: 'awaiting-approval', rolloutId: null });
    expect(await rolloutsOf(project.modelName)).toEqual([]);

    const approved = await stack.promotions.approve(candidate.runId, project.engineer, 'beats v1 on the test split');
    expect(approved).toMatchObject({ decision: 'approved', rolloutId: expect.any(String) as unknown });
    expect(await rolloutsOf(project.modelName)).toEqual([expect.objectContaining({ id: approved.rolloutId, state: 'running', to_version: 2 })]);
    expect(approved.events.map((event) => [event.actor, event.decision, event.reason])).toEqual([
      ['policy', 'awaiting-approval', expect.stringMatching(/waits for an engineer's approval/)],
      [project.engineer.email, 'approved', 'beats v1 on the test split'],
    ]);
    await expect(stack.promotions.reject(candidate.runId, project.engineer, 'changed my mind')).rejects.toThrow(/is approved/);
    // A retried run gets its answer again and pushes nothing.
    expect(await stack.publisher.publish(candidate)).toMatchObject({ candidateVersion: 2, decision: 'approved' });
    expect((await stack.registry.list()).find((model) => model.modelName === project.modelName)?.latestVersion).toBe(2);
  });

  it('keeps a rejected candidate in the registry and never rolls it out', async () => {
    const project = await serving('line-reject');
    await setPolicy(project, 'approval');
    const candidate = await candidateOf(project, { challenger: 0.85, champion: 0.8 });
    await stack.publisher.publish(candidate);

    const rejected = await stack.promotions.reject(candidate.runId, project.engineer, 'labels of line 2 were wrong');

    expect(rejected).toMatchObject({ decision: 'rejected', rolloutId: null });
    await expect(stack.promotions.approve(candidate.runId, project.engineer, 'oops')).rejects.toThrow(PromotionConflictError);
    expect(await rolloutsOf(project.modelName)).toEqual([]);
    expect((await stack.registry.show(project.modelName, 2)).lineage?.trainingRunId).toBe(candidate.runId);
  });

  it('leaves a winner waiting for an engineer when its canary cannot start, saying why', async () => {
    const project = await serving('line-empty');
    await stack.policies.put(project.projectId, trainingPolicySchema.parse({ promotion: 'auto-rollout', fleetGroup: 'nobody-here' }), project.engineer.id);
    const candidate = await candidateOf(project, { challenger: 0.9, champion: 0.8 });

    expect(await stack.publisher.publish(candidate)).toMatchObject({ decision: 'awaiting-approval', rolloutId: null });
    const [event] = (await stack.promotions.show(candidate.runId)).events;
    expect(event?.reason).toMatch(/but it could not start: .*nobody-here/);
  });
});
