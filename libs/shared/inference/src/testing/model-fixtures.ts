import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pino } from 'pino';
import type { PipelineSettings } from '../pipeline/model-pipeline';

const workspace = join(import.meta.dirname, '..', '..', '..', '..', '..');
/** Real models with known answers, copied into the repository (see tools/testdata/README.md). */
export const TEST_MODELS = join(workspace, 'tools', 'testdata', 'models');
/** The demo copy of pcb-aoi: the model, its manifest and its four sample images. */
export const DEMO_PCB_AOI_DIR = join(workspace, 'tools', 'demo', 'models', 'pcb-aoi');
export const DEMO_PCB_AOI = join(DEMO_PCB_AOI_DIR, 'manifest.json');
/** The shipped default backbone (tools/backbones/squeezenet-features): task `features`, no classes. */
export const SQUEEZENET_BACKBONE_DIR = join(workspace, 'tools', 'backbones', 'squeezenet-features');

export const silentLogger = pino({ level: 'silent' });

export function testSettings(overrides: Partial<PipelineSettings> = {}): PipelineSettings {
  return {
    providers: {
      chain: ['cpu'],
      tensorrt: { fp16: false, int8: false, engineCacheDir: join(tmpdir(), 'loupe-trt-cache'), workspaceBytes: 1 << 30 },
      cuda: { deviceId: 0 },
      // Tests run side by side on small machines; spinning threads would take turns from each other.
      cpu: { intraOpThreads: 2, interOpThreads: 1, spinWait: false },
    },
    batch: { maxBatch: 8, maxDelayMs: 2, maxQueue: 64, concurrentBatches: 2 },
    maxImagePixels: 50_000_000,
    warmUpRuns: 1,
    ...overrides,
  };
}

// Each test file has its own copy of this module, so these are its own folders.
const createdFolders: string[] = [];

/**
 * A model folder in a temporary directory: copies of the model and images,
 * and the given manifest. `removeModelFolders` deletes them.
 */
export async function modelFolder(modelFile: string, manifest: Record<string, unknown>, images: string[] = []): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'loupe-model-'));
  createdFolders.push(directory);
  await copyFile(modelFile, join(directory, basename(modelFile)));
  for (const image of images) await copyFile(image, join(directory, basename(image)));
  const manifestPath = join(directory, 'manifest.json');
  await writeFile(manifestPath, JSON.stringify({ ...manifest, modelFile: basename(modelFile) }));
  return manifestPath;
}

/** Deletes the folders `modelFolder` made; for a test file's afterAll. */
export async function removeModelFolders(): Promise<void> {
  await Promise.all(createdFolders.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
}

/** Labels from a SqueezeNet-style `index,label` file. */
export async function indexedLabels(file: string): Promise<string[]> {
  const lines = (await readFile(file, 'utf8')).split('\n').filter((line) => line.trim() !== '');
  return lines.map((line) => line.slice(line.indexOf(',') + 1).trim());
}

export function squeezenetManifest(dtype: 'float32' | 'float16', labels: string[]) {
  return {
    name: `squeezenet-${dtype}`,
    version: '1',
    task: 'classification',
    input: {
      name: 'data_0',
      shape: [1, 3, 224, 224],
      layout: 'NCHW',
      dtype,
      channelOrder: 'BGR',
      resize: { mode: 'stretch' },
    },
    output: { task: 'classification', scores: 'softmaxout_1', activation: 'none', topK: 3 },
    labels,
  };
}
