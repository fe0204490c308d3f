import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BackboneManifest, parseBackboneManifest } from '@loupe/inference';
import { seededRandom } from '../gaussian-blobs.fixture';
import type { LinearHead } from '../linear-head';

const workspace = join(import.meta.dirname, '..', '..', '..', '..', '..');
/** The shipped default backbone (tools/backbones/squeezenet-features). */
export const SQUEEZENET_BACKBONE_DIR = join(workspace, 'tools', 'backbones', 'squeezenet-features');
/** The SqueezeNet it was cut from, as upstream shipped it (IR 3, fixed batch of 1, the ImageNet classifier). */
export const SQUEEZENET_ORIGINAL = join(workspace, 'tools', 'testdata', 'models', 'squeezenet1.0', 'SqueezeNet_fp32.from-fp16.onnx');
const DEMO_IMAGES = join(workspace, 'tools', 'demo', 'images', 'deeppcb');

export async function shippedBackbone(): Promise<{ bytes: Buffer; manifest: BackboneManifest }> {
  const manifestPath = join(SQUEEZENET_BACKBONE_DIR, 'manifest.json');
  const manifest = parseBackboneManifest(JSON.parse(await readFile(manifestPath, 'utf8')), manifestPath);
  return { bytes: await readFile(join(SQUEEZENET_BACKBONE_DIR, manifest.modelFile)), manifest };
}

/** Real DeepPCB board images (640x640 JPEG) from the demo camera's folder, with their paths. */
export async function demoImages(count: number): Promise<{ path: string; bytes: Buffer }[]> {
  const names = (await readdir(DEMO_IMAGES)).filter((name) => name.endsWith('.jpg')).sort().slice(0, count);
  return Promise.all(names.map(async (name) => ({ path: join(DEMO_IMAGES, name), bytes: await readFile(join(DEMO_IMAGES, name)) })));
}

/**
 * A head with random weights and a standardisation that matters: means
 * near the features' own scale, scales from 0.5 to 2, a temperature other
 * than 1, and logits spread enough that no probability saturates.
 */
export function randomHead(options: { classes: string[]; dimension: number; featureOutput: string; seed: number; temperature?: number }): LinearHead {
  const random = seededRandom(options.seed);
  const { dimension } = options;
  const classes = options.classes.length;
  const fill = (length: number, from: number, to: number) => Float32Array.from({ length }, () => from + (to - from) * random());
  return {
    classes: options.classes,
    featureOutput: options.featureOutput,
    dimension,
    mean: fill(dimension, 0, 3),
    scale: fill(dimension, 0.5, 2),
    weights: fill(classes * dimension, -0.08, 0.08),
    bias: fill(classes, -1, 1),
    temperature: options.temperature ?? 1.7,
  };
}
