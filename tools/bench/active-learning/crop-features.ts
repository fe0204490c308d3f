/**
 * Feature vectors of the crops through the product's FeatureExtractor, kept
 * on disk per backbone and crop scale so a rerun extracts nothing: one
 * float32 file (crop after crop) and the crop ids in its order beside it.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackboneSpec } from '@loupe/inference';
import { FeatureExtractor, featureBytes, featureVector } from '@loupe/trainer';
import type { Crop } from './crop-dataset';

export interface Backbone {
  bytes: Buffer;
  spec: BackboneSpec;
}

interface CacheFiles {
  vectors: string;
  ids: string;
}

// Saved every so many images, so a stopped first run keeps most of its work.
const SAVE_EVERY_IMAGES = 200;

function cacheFiles(directory: string, backbone: Backbone, cropScale: number): CacheFiles {
  const key = createHash('sha256').update(backbone.bytes).update(JSON.stringify(backbone.spec)).digest('hex').slice(0, 16);
  const base = join(directory, `${key}-crop${cropScale}`);
  return { vectors: `${base}.f32`, ids: `${base}.json` };
}

async function readCache(files: CacheFiles, dimension: number): Promise<Map<string, Float32Array>> {
  const cached = new Map<string, Float32Array>();
  if (!existsSync(files.ids) || !existsSync(files.vectors)) return cached;
  const ids = JSON.parse(await readFile(files.ids, 'utf8')) as string[];
  const bytes = await readFile(files.vectors);
  const size = dimension * Float32Array.BYTES_PER_ELEMENT;
  // A cache cut short by a crash holds fewer vectors than ids: keep the whole ones.
  ids.slice(0, Math.floor(bytes.byteLength / size)).forEach((id, i) => cached.set(id, featureVector(bytes.subarray(i * size, (i + 1) * size), dimension)));
  return cached;
}

async function writeCache(files: CacheFiles, vectors: Map<string, Float32Array>): Promise<void> {
  const ids = [...vectors.keys()];
  // Vectors first, each file renamed into place whole: ids never name a vector the file lacks.
  await writeFile(`${files.vectors}.partial`, Buffer.concat(ids.map((id) => featureBytes(vectors.get(id)!))));
  await rename(`${files.vectors}.partial`, files.vectors);
  await writeFile(`${files.ids}.partial`, JSON.stringify(ids));
  await rename(`${files.ids}.partial`, files.ids);
}

/**
 * One vector per crop, in the order given: from the cache when it has it,
 * else extracted (each image read once for all its crops) and cached.
 */
export async function cropFeatures(
  crops: readonly Crop[],
  backbone: Backbone,
  options: { cropScale: number; cacheDirectory: string; threads: number; progress: (message: string) => void },
): Promise<{ vectors: Float32Array[]; extracted: number; extractSeconds: number }> {
  await mkdir(options.cacheDirectory, { recursive: true });
  const files = cacheFiles(options.cacheDirectory, backbone, options.cropScale);
  const cached = await readCache(files, backbone.spec.features.dimension);
  const missing = new Map<string, Crop[]>();
  for (const crop of crops) if (!cached.has(crop.id)) missing.set(crop.imagePath, [...(missing.get(crop.imagePath) ?? []), crop]);
  const extracted = [...missing.values()].reduce((sum, imageCrops) => sum + imageCrops.length, 0);
  const started = performance.now();
  if (missing.size > 0) {
    options.progress(`extracting features of ${extracted} crops from ${missing.size} images (${cached.size} cached)`);
    const extractor = await FeatureExtractor.create(backbone.bytes, backbone.spec, { cropScale: options.cropScale, threads: options.threads });
    try {
      let done = 0;
      for (const [imagePath, imageCrops] of missing) {
        const image = await readFile(imagePath);
        const vectors = await extractor.extract(imageCrops.map((crop) => ({ image, box: crop.box })));
        imageCrops.forEach((crop, i) => cached.set(crop.id, vectors[i]!));
        if (++done % SAVE_EVERY_IMAGES === 0 || done === missing.size) {
          await writeCache(files, cached);
          options.progress(`features: ${done} of ${missing.size} images`);
        }
      }
    } finally {
      await extractor.release();
    }
  }
  return {
    vectors: crops.map((crop) => cached.get(crop.id)!),
    extracted,
    extractSeconds: (performance.now() - started) / 1000,
  };
}
