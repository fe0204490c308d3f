import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  generateSigningKey,
  publicKeyToPem,
  signingKeyFromPem,
  signedPackage,
  signingKeyToPem,
  type SigningKey,
} from '@loupe/model-package';
import { signedInAsLocalAdmin } from './local-admin';

const DEMO_MODEL = resolve(import.meta.dirname, '..', 'demo', 'models', 'pcb-defects');
const DEFAULT_BACKBONE = resolve(import.meta.dirname, '..', 'backbones', 'squeezenet-features');

/** The models the repository ships, as `npm start` pushes them: the demo's classifier, and the backbone training starts from. */
const SHIPPED_MODELS = [
  { name: 'pcb-defects', directory: DEMO_MODEL, files: ['manifest.json', 'pcb-defects.onnx', 'sample-images'], notes: 'the demo starting model, pushed by npm start' },
  { name: 'squeezenet-features', directory: DEFAULT_BACKBONE, files: ['manifest.json', 'squeezenet-features.onnx'], notes: 'the default backbone for training, pushed by npm start' },
];

/** The labeler and reviewer `npm start` adds on one machine, so the loop can be tried at once. */
export const LOCAL_LABELER = { email: 'labeler@loupe.local', password: 'loupe-local-labeler', name: 'Local labeler', role: 'labeler' };
export const LOCAL_REVIEWER = { email: 'reviewer@loupe.local', password: 'loupe-local-reviewer', name: 'Local reviewer', role: 'reviewer' };

/** The project that takes the demo model's samples (tools/demo/models/pcb-defects). */
export const DEMO_PROJECT = { name: 'PCB defects', modelName: 'pcb-defects', task: 'classification', classes: ['Normal', 'Defective'] };

/**
 * Adds the local labeler, reviewer and demo project through the REST API,
 * as the local admin; whatever exists from an earlier start is kept (409).
 */
export async function setUpLocalDemo(httpUrl: string): Promise<void> {
  const session = await signedInAsLocalAdmin(httpUrl);
  for (const [path, body] of [
    ['/api/users', LOCAL_LABELER],
    ['/api/users', LOCAL_REVIEWER],
    ['/api/projects', DEMO_PROJECT],
  ] as const) {
    const response = await fetch(`${httpUrl}${path}`, {
      method: 'POST',
      headers: { ...(session.headers as Record<string, string>), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 201 && response.status !== 409) throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`);
  }
}

/**
 * A publisher key for this machine, trusted by the local registry (its
 * public key is added to the publisher keys file, which the cloud reads at
 * every push), so `loupe model push --key <file>` works at once.
 */
export async function localPublisherKey(keyFile: string, publisherKeysFile: string): Promise<SigningKey> {
  const existing = await readFile(keyFile, 'utf8').catch(() => undefined);
  const key = existing ? signingKeyFromPem(existing) : generateSigningKey();
  if (!existing) await writeFile(keyFile, signingKeyToPem(key), { mode: 0o600 });
  const trusted = await readFile(publisherKeysFile, 'utf8').catch(() => '');
  const publicPem = publicKeyToPem(key.publicKey);
  if (!trusted.includes(publicPem.trim())) {
    await mkdir(dirname(publisherKeysFile), { recursive: true });
    await writeFile(publisherKeysFile, `${trusted}${trusted && !trusted.endsWith('\n') ? '\n' : ''}${publicPem}`);
  }
  return key;
}

/** Pushes the shipped models, signed with the local key, except those the registry has already. */
export async function publishShippedModels(httpUrl: string, key: SigningKey): Promise<void> {
  const session = (await signedInAsLocalAdmin(httpUrl)).headers as Record<string, string>;
  const { models } = (await (await fetch(`${httpUrl}/api/models`, { headers: session })).json()) as { models: { modelName: string }[] };
  for (const shipped of SHIPPED_MODELS) {
    if (!models.some((model) => model.modelName === shipped.name)) await publishModel(httpUrl, session, key, shipped);
  }
}

async function publishModel(httpUrl: string, session: Record<string, string>, key: SigningKey, shipped: (typeof SHIPPED_MODELS)[number]): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'loupe-shipped-model-'));
  try {
    for (const file of shipped.files) await cp(join(shipped.directory, file), join(directory, file), { recursive: true });
    const { bytes } = await signedPackage(directory, key);
    const response = await fetch(`${httpUrl}/api/models?notes=${encodeURIComponent(shipped.notes)}`, {
      method: 'POST',
      headers: { ...session, 'content-type': 'application/x-tar' },
      body: bytes,
    });
    if (response.status !== 201) throw new Error(`pushing ${shipped.name} answered ${response.status}: ${await response.text()}`);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
