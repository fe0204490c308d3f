import { Inject, Injectable } from '@nestjs/common';
import type { BlobStore } from '../blobs/blob-store';
import { BLOB_STORE } from '../infrastructure.tokens';
import { featureKeyText, SampleFeatureRepository, type FeatureKey } from './sample-feature.repository';
import type { CropBox, TrainingExample } from './training-examples';

/** An image to describe: whole, or the crop around a box (at the crop scale the source was opened with). */
export interface FeatureInput {
  image: Buffer;
  box?: CropBox;
}

/** A backbone ready to run: pooled features of images or crops, one vector per input, in order. */
export interface FeatureSource {
  /** SHA-256 of the backbone's ONNX file and its preprocessing: the same bytes fed the same way give the same features, so this keys the cache. */
  readonly sha256: string;
  features(inputs: readonly FeatureInput[]): Promise<Float32Array[]>;
}

export interface ExtractedFeatures {
  /** One vector per example, in the examples' order. */
  vectors: Float32Array[];
  computed: number;
  cached: number;
}

// Examples looked up, computed and stored together: one cache read, one backbone call (batched inside) and a few INSERTs per batch, and progress written between them.
const BATCH = 32;

/**
 * Features of training examples through the cache: vectors computed before
 * under the same backbone bytes are read back, only the others are computed
 * (the image read once per sample, however many of its boxes are cropped)
 * and stored, batch by batch, so a run stopped half-way has paid for the
 * batches it finished.
 */
@Injectable()
export class FeatureCache {
  constructor(
    @Inject(SampleFeatureRepository) private readonly cache: SampleFeatureRepository,
    @Inject(BLOB_STORE) private readonly blobs: Pick<BlobStore, 'get'>,
  ) {}

  async extract(
    source: FeatureSource,
    examples: readonly TrainingExample[],
    options: { onProgress: (done: number, total: number) => Promise<void>; signal: AbortSignal },
  ): Promise<ExtractedFeatures> {
    const vectors: Float32Array[] = [];
    let computed = 0;
    for (let start = 0; start < examples.length; start += BATCH) {
      const batch = examples.slice(start, start + BATCH);
      const found = await this.cache.find(source.sha256, batch);
      const fresh = await this.compute(source, batch, found, options.signal);
      await this.cache.save(source.sha256, [...fresh.values()]);
      computed += fresh.size;
      for (const example of batch) {
        const key = featureKeyText(example);
        vectors.push(found.get(key) ?? fresh.get(key)!.vector);
      }
      await options.onProgress(vectors.length, examples.length);
    }
    return { vectors, computed, cached: examples.length - computed };
  }

  private async compute(
    source: FeatureSource,
    batch: readonly TrainingExample[],
    found: ReadonlyMap<string, Float32Array>,
    signal: AbortSignal,
  ): Promise<Map<string, FeatureKey & { vector: Float32Array }>> {
    const missing = new Map<string, TrainingExample>();
    for (const example of batch) if (!found.has(featureKeyText(example))) missing.set(featureKeyText(example), example);
    const images = new Map<string, Buffer>();
    const inputs: FeatureInput[] = [];
    const examples = [...missing.values()];
    for (const example of examples) {
      signal.throwIfAborted();
      let image = images.get(example.sampleId);
      if (!image) {
        image = await this.blobs.get(example.imageKey);
        if (!image) throw new Error(`the image of sample ${example.sampleId} (${example.imageKey}) is not in the blob store`);
        images.set(example.sampleId, image);
      }
      inputs.push(example.box ? { image, box: example.box } : { image });
    }
    const vectors = inputs.length > 0 ? await this.featuresNaming(source, inputs, examples) : [];
    signal.throwIfAborted();
    return new Map([...missing].map(([key, example], index) => [key, { sampleId: example.sampleId, cropKey: example.cropKey, vector: vectors[index]! }]));
  }

  /** The batch's features; when the backbone refuses the batch, the error names the sample it refuses, so a person can find it. */
  private async featuresNaming(source: FeatureSource, inputs: FeatureInput[], examples: TrainingExample[]): Promise<Float32Array[]> {
    try {
      return await source.features(inputs);
    } catch (error) {
      for (const [index, input] of inputs.entries()) {
        await source.features([input]).catch((refused: unknown) => {
          const { sampleId, imageKey } = examples[index]!;
          throw new Error(`the features of sample ${sampleId} (${imageKey}) could not be extracted: ${(refused as Error).message}`, { cause: refused });
        });
      }
      throw error;
    }
  }
}
