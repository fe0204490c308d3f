import { createModel, GraphEditor, writeOnnxModel } from '@loupe/onnx-graph';
import fc from 'fast-check';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { addImageScore, boxFilter, imageScore, type ImageScoreSpec } from './image-score';

async function graphScores(maps: Float32Array, batch: number, size: { width: number; height: number }, spec: ImageScoreSpec, opset: number) {
  const editor = new GraphEditor(createModel(opset));
  const map = editor.addInput('map', [batch, 1, size.height, size.width]);
  editor.exposeOutput(addImageScore(editor, map, size, spec), [batch]);
  const session = await ort.InferenceSession.create(writeOnnxModel(editor.model), { intraOpNumThreads: 1 });
  const run = await session.run({ map: new ort.Tensor('float32', maps, [batch, 1, size.height, size.width]) });
  await session.release();
  return Array.from(Object.values(run)[0]!.data as Float32Array);
}

describe('image score', () => {
  it('is the same in the graph as computed here, for any map, rule and opset', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ width: fc.integer({ min: 7, max: 30 }), height: fc.integer({ min: 7, max: 30 }) }),
        fc.record({ border: fc.integer({ min: 0, max: 3 }), blur: fc.constantFrom(1, 3, 5), topK: fc.integer({ min: 1, max: 20 }) }),
        fc.constantFrom(7, 13, 18),
        fc.integer({ min: 0, max: 1000 }),
        async (size, spec, opset, seed) => {
          fc.pre((size.width - 2 * spec.border) * (size.height - 2 * spec.border) >= spec.topK);
          const batch = 2;
          const maps = Float32Array.from({ length: batch * size.width * size.height }, (_, i) => Math.abs(Math.sin(seed + i * 12.9898)) * 3);
          const scores = await graphScores(maps, batch, size, spec, opset);
          for (let b = 0; b < batch; b++) {
            const own = imageScore(maps.subarray(b * size.width * size.height, (b + 1) * size.width * size.height), size, spec);
            expect(Math.abs(scores[b]! - own)).toBeLessThan(1e-5);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('takes the plain maximum with no border, blur or top-k, and ignores what the border hides', () => {
    const size = { width: 5, height: 5 };
    const map = new Float32Array(25).fill(1);
    map[0] = 9;
    map[12] = 4;
    expect(imageScore(map, size, { border: 0, blur: 1, topK: 1 })).toBe(9);
    expect(imageScore(map, size, { border: 1, blur: 1, topK: 1 })).toBe(4);
    expect(imageScore(map, size, { border: 1, blur: 1, topK: 2 })).toBe(2.5);
  });

  it('averages only the cells inside the map at its edges', () => {
    const map = Float32Array.from([1, 2, 3, 4]);
    expect(Array.from(boxFilter(map, 2, 2, 3))).toEqual([2.5, 2.5, 2.5, 2.5]);
    expect(Array.from(boxFilter(Float32Array.from([0, 0, 9, 0, 0]), 5, 1, 3))).toEqual([0, 3, 3, 3, 0]);
  });

  it('refuses a rule that averages more cells than the border leaves', () => {
    expect(() => imageScore(new Float32Array(16), { width: 4, height: 4 }, { border: 1, blur: 1, topK: 5 })).toThrow(/has 4 cells, fewer than topK 5/);
  });
});
