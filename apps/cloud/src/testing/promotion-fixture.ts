import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { EvaluationDto } from '@loupe/api-contracts';
import { parseModelManifest } from '@loupe/inference';
import { generateSigningKey, publicKeyToPem } from '@loupe/model-package';
import { pino } from 'pino';
import { FolderBlobStore } from '../blobs/folder-blob-store';
import type { Database } from '../database/database';
import { DesiredModels } from '../fleet/state/desired-models';
import { DeviceModelStates } from '../fleet/state/device-model-states';
import { CloudMetrics } from '../metrics/cloud-metrics';
import { ModelRegistry } from '../registry/model-registry';
import { ModelVersionRepository } from '../registry/model-version.repository';
import { PackageValidation } from '../registry/package-validation';
import { loadRegistryKeys } from '../registry/registry-keys';
import { RolloutExecutor } from '../rollouts/rollout-executor';
import { RolloutRepository } from '../rollouts/rollout.repository';
import { Rollouts } from '../rollouts/rollouts';
import { CandidatePublisher, type Candidate } from '../training/candidate-publisher';
import { PromotionRepository } from '../training/promotion.repository';
import { Promotions } from '../training/promotions';
import { TrainingPolicyRepository } from '../training/training-policy.repository';
import { pcbAoiPackage } from './model-packages';

const PCB_AOI = resolve(import.meta.dirname, '..', '..', '..', '..', 'tools', 'demo', 'models', 'pcb-aoi');
const silent = pino({ level: 'silent' });

/** The registry, rollouts and promotions of one cloud on `database`, wired as the app wires them, with its keys and blobs under `scratch`. */
export async function openPromotionStack({ db, pool }: Pick<Database, 'db' | 'pool'>, scratch: string) {
  const human = generateSigningKey();
  await writeFile(join(scratch, 'publishers.pem'), publicKeyToPem(human.publicKey));
  const keys = await loadRegistryKeys(
    {
      signingKeyFile: join(scratch, 'registry.pem'),
      signingKeyConfigured: false,
      publisherKeysFile: join(scratch, 'publishers.pem'),
      maxPackageBytes: 64 * 1024 ** 2,
      trainerKeyFile: join(scratch, 'trainer.pem'),
      trainerKeyConfigured: false,
    },
    silent,
  );
  const metrics = new CloudMetrics();
  const registry = new ModelRegistry(new ModelVersionRepository(db), new FolderBlobStore(join(scratch, 'blobs')), new PackageValidation(keys, silent), keys, metrics);
  const rolloutRepository = new RolloutRepository(pool);
  const rollouts = new Rollouts(rolloutRepository, new RolloutExecutor(rolloutRepository, new DeviceModelStates(db), metrics, silent), new DesiredModels(registry, () => 'http://cloud.test'));
  const policies = new TrainingPolicyRepository(db);
  const promotions = new Promotions(new PromotionRepository(db), policies, rollouts, silent);
  const publisher = new CandidatePublisher(registry, promotions, keys);
  return { human, keys, registry, rollouts, policies, promotions, publisher };
}
export type PromotionStack = Awaited<ReturnType<typeof openPromotionStack>>;

/**
 * A project of its own model, whose version 1 (the demo pcb-aoi model under
 * that name, pushed by a person) runs on `devices` boxes of `fleetGroup`, and
 * an engineer to act for it.
 */
export async function seedServingProject(database: Pick<Database, 'db'>, stack: PromotionStack, scratch: string, { fleetGroup, devices = 2 }: { fleetGroup: string; devices?: number }) {
  const { db } = database;
  const projectId = randomUUID();
  const modelName = `pcb-${projectId.slice(0, 8)}`;
  const engineer = { id: randomUUID(), email: `${projectId}@example.com` };
  await db.insertInto('users').values({ id: engineer.id, email: engineer.email, name: 'ML engineer', role: 'engineer', password_hash: 'x' }).execute();
  await db.insertInto('projects').values({ id: projectId, name: `project-${projectId}`, model_name: modelName, task: 'classification', classes: ['Defective', 'Normal'], consensus: 1 }).execute();
  const renamed = async (directory: string) => {
    const path = join(directory, 'manifest.json');
    await writeFile(path, JSON.stringify({ ...(JSON.parse(await readFile(path, 'utf8')) as object), name: modelName }));
  };
  await stack.registry.push(Readable.from(await pcbAoiPackage(scratch, { signer: stack.human, before: renamed })), {}, engineer.id);
  for (let index = 0; index < devices; index++) {
    const device = { site_id: 'plant-1', device_id: `${modelName}-${index}` };
    await db.insertInto('device_credentials').values({ ...device, secret_hash: 'x', fleet_group: fleetGroup }).execute();
    const reported = { active: { name: modelName, version: '1' } };
    await db.insertInto('device_model_states').values({ ...device, reported: JSON.stringify(reported), reported_at: new Date() }).execute();
  }
  return { projectId, modelName, engineer, fleetGroup };
}

export const evaluation = (macroF1: number): EvaluationDto => ({
  samples: 40,
  accuracy: macroF1,
  macroF1,
  perClass: [
    { className: 'Defective', precision: macroF1, recall: macroF1, support: 20 },
    { className: 'Normal', precision: macroF1, recall: macroF1, support: 20 },
  ],
  confusion: [
    [16, 4],
    [4, 16],
  ],
  classes: ['Defective', 'Normal'],
  calibrationError: 0.04,
});

/**
 * A candidate as a training run hands it over: here the demo model's graph
 * and manifest stand for the trained classifier, and two of its sample
 * images with its known scores for golden samples from the test split.
 */
export async function candidateOf(project: { projectId: string; modelName: string; engineer: { id: string } }, scores: { challenger: number; champion: number }): Promise<Candidate> {
  const manifest = parseModelManifest(JSON.parse(await readFile(join(PCB_AOI, 'manifest.json'), 'utf8')), 'manifest.json');
  const golden = async (file: string) => ({ sampleId: randomUUID(), image: await readFile(join(PCB_AOI, 'sample-images', file)) });
  return {
    runId: randomUUID(),
    project: { id: project.projectId, modelName: project.modelName },
    classifier: { onnx: await readFile(join(PCB_AOI, manifest.modelFile)), manifest: { ...manifest, goldenSamples: [] } },
    goldenSamples: [
      { ...(await golden('Defective_02.png')), expected: { Defective: 1.0, Normal: 0.0005 } },
      { ...(await golden('Normal_33.png')), expected: { Defective: 0.0, Normal: 1.0 } },
    ],
    challenger: evaluation(scores.challenger),
    champion: { ...evaluation(scores.champion), version: 1 },
    dataset: { hash: 'a'.repeat(64), labels: 200, train: 140, val: 20, test: 40 },
    backbone: { model: 'squeezenet', version: 1 },
    recipe: { l2Candidates: [1e-3], classWeighting: true, maxIterations: 300, cropScale: 1.1 },
    trigger: 'manual',
    startedBy: 'someone@example.com',
    authorId: project.engineer.id,
  };
}
