import { type BackboneSpec, inputSize } from '@loupe/inference';
import sharp from 'sharp';
import { FeatureExtractor } from './feature-extractor';

/**
 * Whether a model serves as the backbone its manifest says: its feature
 * output exists, pools to `dimension` numbers, and they are finite, on a
 * mid-grey image of the input's size. Throws what went wrong.
 */
export async function checkBackbone(model: Uint8Array, spec: BackboneSpec): Promise<void> {
  const { width, height } = inputSize(spec.input);
  const grey = await sharp({ create: { width, height, channels: 3, background: { r: 128, g: 128, b: 128 } } }).png().toBuffer();
  const extractor = await FeatureExtractor.create(model, spec, { batchSize: 1 });
  try {
    const [vector] = await extractor.extract([{ image: grey }]);
    if (!vector!.every(Number.isFinite)) throw new RangeError(`the features of ${spec.features.output} are not all finite numbers`);
  } finally {
    await extractor.release();
  }
}
