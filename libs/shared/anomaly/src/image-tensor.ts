import { decodeImage, type ModelManifest, writeImageTensor } from '@loupe/inference';

export type InputSpec = ModelManifest['input'];

/**
 * An encoded image as the model's input tensor, [3 * height * width],
 * decoded and normalized exactly as the edge agent does it (the same
 * functions), so that a bank built here matches what the box computes.
 */
export async function imageTensor(bytes: Buffer, input: InputSpec): Promise<Float32Array> {
  const { pixels } = await decodeImage(bytes, input);
  const tensor = new Float32Array(pixels.length);
  writeImageTensor(pixels, input, tensor, 0);
  return tensor;
}
