import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareBackbone } from './backbone';
import { featureMapGeometry } from './feature-map-geometry';
import type { ModelProto } from './generated/onnx/onnx';
import { GraphEditor } from './graph-editor';
import { readOnnxModel, writeOnnxModel } from './onnx-model';

const file = join(import.meta.dirname, '..', '..', '..', '..', 'tools', 'testdata', 'models', 'squeezenet1.0', 'SqueezeNet_fp32.from-fp16.onnx');
const LAYERS = ['fire3/concat_1', 'fire5/concat_1', 'fire7/concat_1'];

describe('featureMapGeometry on the shipped SqueezeNet', () => {
  let backbone: ModelProto;
  let session: ort.InferenceSession;
  beforeAll(async () => {
    backbone = prepareBackbone(readOnnxModel(await readFile(file)), { outputs: LAYERS });
    session = await ort.InferenceSession.create(writeOnnxModel(backbone), { intraOpNumThreads: 1 });
  });

  it('states stride, centre offset, receptive field and channels of each fire module at 640x640', () => {
    const at640 = (value: string) => featureMapGeometry(backbone, value, { height: 640, width: 640 });
    expect(at640('fire3/concat_1')).toEqual({ channels: 128, y: { stride: 4, offset: 3, receptiveField: 23, cells: 159 }, x: { stride: 4, offset: 3, receptiveField: 23, cells: 159 } });
    expect(at640('fire5/concat_1').x).toEqual({ stride: 8, offset: 7, receptiveField: 63, cells: 79 });
    expect(at640('fire7/concat_1')).toMatchObject({ channels: 384, x: { stride: 16, offset: 15, receptiveField: 143, cells: 39 } });
  });

  it('counts the cells onnxruntime computes, for any image size', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 40, max: 200 }), fc.integer({ min: 40, max: 200 }), async (height, width) => {
        const run = await session.run({ data_0: new ort.Tensor('float32', new Float32Array(3 * height * width), [1, 3, height, width]) });
        for (const layer of LAYERS) {
          const { channels, y, x } = featureMapGeometry(backbone, layer, { height, width });
          expect(run[layer]!.dims).toEqual([1, channels, y.cells, x.cells]);
        }
      }),
      { numRuns: 12 },
    );
  });

  it('puts every cell that a single bright pixel changes within its receptive field of that pixel', async () => {
    const [height, width] = [96, 96];
    const blank = new Float32Array(3 * height * width).fill(128);
    const [py, px] = [41, 58];
    const dot = Float32Array.from(blank);
    for (let c = 0; c < 3; c++) dot[c * height * width + py * width + px] = 255;
    const [before, after] = await Promise.all([blank, dot].map((image) => session.run({ data_0: new ort.Tensor('float32', image, [1, 3, height, width]) })));
    for (const layer of LAYERS) {
      const { channels, y, x } = featureMapGeometry(backbone, layer, { height, width });
      const a = before![layer]!.data as Float32Array;
      const b = after![layer]!.data as Float32Array;
      let changed = 0;
      for (let c = 0; c < channels; c++) {
        for (let row = 0; row < y.cells; row++) {
          for (let column = 0; column < x.cells; column++) {
            const index = (c * y.cells + row) * x.cells + column;
            if (a[index] === b[index]) continue;
            changed++;
            expect(Math.abs(y.offset + y.stride * row - py)).toBeLessThanOrEqual((y.receptiveField - 1) / 2);
            expect(Math.abs(x.offset + x.stride * column - px)).toBeLessThanOrEqual((x.receptiveField - 1) / 2);
          }
        }
      }
      expect(changed).toBeGreaterThan(0);
    }
  });

  it('refuses to guess through an operator that moves cells', () => {
    const model = prepareBackbone(backbone, { outputs: ['fire5/concat_1'] });
    const editor = new GraphEditor(model);
    const [flat] = editor.addNode('Flatten', ['fire5/concat_1'], ['flat']);
    expect(() => featureMapGeometry(model, flat!, { height: 64, width: 64 })).toThrow(/cannot follow feature-map geometry through Flatten/);
    expect(() => featureMapGeometry(model, 'nowhere', { height: 64, width: 64 })).toThrow(/nothing in the graph produces nowhere/);
  });
});
