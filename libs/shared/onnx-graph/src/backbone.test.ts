import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareBackbone } from './backbone';
import type { ModelProto } from './generated/onnx/onnx';
import { readOnnxModel, writeOnnxModel } from './onnx-model';

const folder = join(import.meta.dirname, '..', '..', '..', '..', 'tools', 'testdata', 'models', 'squeezenet1.0');
const TABBY = 281;

/** SqueezeNet's input: BGR planes, raw 0..255, no mean or std. */
async function bgrTensor(file: string, width: number, height: number): Promise<ort.Tensor> {
  const rgb = await sharp(await readFile(join(folder, file))).removeAlpha().resize(width, height, { fit: 'fill' }).raw().toBuffer();
  const planes = new Float32Array(3 * width * height);
  for (let i = 0; i < width * height; i++) {
    planes[i] = rgb[i * 3 + 2]!;
    planes[width * height + i] = rgb[i * 3 + 1]!;
    planes[2 * width * height + i] = rgb[i * 3]!;
  }
  return new ort.Tensor('float32', planes, [1, 3, height, width]);
}

const session = (model: ModelProto) => ort.InferenceSession.create(writeOnnxModel(model), { intraOpNumThreads: 1 });

describe('prepareBackbone on the shipped SqueezeNet (IR 3, opset 7, fixed 1x3x224x224)', () => {
  let original: ModelProto;
  beforeAll(async () => {
    original = readOnnxModel(await readFile(join(folder, 'SqueezeNet_fp32.from-fp16.onnx')));
  });

  it('reads and writes the model without changing what it computes', async () => {
    const written = writeOnnxModel(original);
    const again = readOnnxModel(written);
    expect(Buffer.compare(writeOnnxModel(again), written)).toBe(0);
    const run = await (await session(again)).run({ data_0: await bgrTensor('kitten_224.png', 224, 224) });
    const probabilities = run.softmaxout_1!.data as Float32Array;
    expect(probabilities.indexOf(Math.max(...probabilities))).toBe(TABBY);
    expect(probabilities[TABBY]).toBeCloseTo(0.93, 2);
  });

  it('serves intermediate feature maps for any batch and image size, without the classifier', async () => {
    const backbone = prepareBackbone(original, { outputs: ['fire9/concat_1', 'fire5/concat_1'] });
    expect(original.graph!.input).toHaveLength(53);
    expect(backbone.graph!.input.map((input) => input.name)).toEqual(['data_0']);
    expect(backbone.graph!.node.some((node) => node.opType === 'Softmax' || node.output.includes('conv10_1'))).toBe(false);
    expect(backbone.graph!.initializer.some((tensor) => tensor.name?.startsWith('conv10'))).toBe(false);
    const model = await session(backbone);
    expect(model.outputNames).toEqual(['fire9/concat_1', 'fire5/concat_1']);

    const kitten = await bgrTensor('kitten_224.png', 320, 256);
    const pair = new ort.Tensor('float32', new Float32Array([...(kitten.data as Float32Array), ...(kitten.data as Float32Array)]), [2, 3, 256, 320]);
    const run = await model.run({ data_0: pair });
    expect(run['fire9/concat_1']!.dims).toEqual([2, 512, 15, 19]);
    expect(run['fire5/concat_1']!.dims).toEqual([2, 256, 31, 39]);
    const features = run['fire9/concat_1']!.data as Float32Array;
    const half = features.length / 2;
    expect(features.subarray(0, half)).toEqual(features.subarray(half));
  });

  it('computes at 224 exactly what the fixed model computes', async () => {
    const kept = prepareBackbone(original, { outputs: ['softmaxout_1'] });
    const input = { data_0: await bgrTensor('kitten_224.png', 224, 224) };
    const [before, after] = await Promise.all([session(original).then((s) => s.run(input)), session(kept).then((s) => s.run(input))]);
    const expected = before.softmaxout_1!.data as Float32Array;
    const actual = after.softmaxout_1!.data as Float32Array;
    expect(Math.max(...actual.map((value, i) => Math.abs(value - expected[i]!)))).toBeLessThan(1e-6);
  });

  it('leaves the model it was given unchanged', () => {
    const before = writeOnnxModel(original);
    prepareBackbone(original, { outputs: ['fire9/concat_1'] });
    expect(Buffer.compare(writeOnnxModel(original), before)).toBe(0);
  });

  it('refuses an output nothing produces, and no outputs at all', () => {
    expect(() => prepareBackbone(original, { outputs: ['fire99/concat_1'] })).toThrow(/cannot expose fire99\/concat_1: nothing in the graph produces it/);
    expect(() => prepareBackbone(original, { outputs: [] })).toThrow(/at least one output/);
  });
});
