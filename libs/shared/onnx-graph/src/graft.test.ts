import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { prepareBackbone } from './backbone';
import type { GraphProto } from './generated/onnx/onnx';
import { graftGraph } from './graft';
import { GraphEditor } from './graph-editor';
import { createModel, readOnnxModel, writeOnnxModel } from './onnx-model';
import { floatTensor } from './tensors';

const file = join(import.meta.dirname, '..', '..', '..', '..', 'tools', 'testdata', 'models', 'squeezenet1.0', 'SqueezeNet_fp32.from-fp16.onnx');

/** A pooled linear head written as its own graph, the way a trainer would hand one over. */
function linearHead(channels: number, weights: Float32Array): GraphProto {
  const editor = new GraphEditor(createModel(7));
  const features = editor.addInput('features', ['batch', channels, 'height', 'width']);
  const [pooled] = editor.addNode('GlobalAveragePool', [features], ['pooled']);
  const [flat] = editor.addNode('Flatten', [pooled!], ['flat'], { axis: { int: 1 } });
  const classes = weights.length / channels;
  const w = editor.addInitializer(floatTensor('w', [channels, classes], weights));
  const [logits] = editor.addNode('Gemm', [flat!, w, editor.addInitializer(floatTensor('b', [classes], new Float32Array(classes)))], ['logits']);
  editor.exposeOutput(logits!);
  return editor.graph;
}

describe('graftGraph', () => {
  it('adds two heads on one backbone pass, each computing what it computes alone', async () => {
    const model = prepareBackbone(readOnnxModel(await readFile(file)), { outputs: ['fire9/concat_1', 'fire5/concat_1'] });
    const editor = new GraphEditor(model);
    const convsBefore = model.graph!.node.filter((node) => node.opType === 'Conv').length;
    const first = graftGraph(editor, linearHead(512, Float32Array.from({ length: 1024 }, (_, i) => Math.sin(i) / 40)), { features: 'fire9/concat_1' }, 'a');
    const second = graftGraph(editor, linearHead(256, Float32Array.from({ length: 768 }, (_, i) => Math.cos(i) / 40)), { features: 'fire5/concat_1' }, 'a');
    expect(first.outputs).toEqual({ logits: 'a/logits' });
    expect(second.outputs).toEqual({ logits: 'a/logits_2' });
    expect(second.constants).toEqual({ w: 'a/w_2', b: 'a/b_2' });
    editor.keepOutputs([first.outputs.logits!, second.outputs.logits!, 'fire9/concat_1', 'fire5/concat_1']);
    editor.prune();
    expect(model.graph!.node.filter((node) => node.opType === 'Conv').length).toBe(convsBefore);

    const session = await ort.InferenceSession.create(writeOnnxModel(model), { intraOpNumThreads: 1 });
    const image = Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => (i * 31) % 256);
    const run = await session.run({ data_0: new ort.Tensor('float32', image, [1, 3, 64, 64]) });
    const expected = (features: string, classes: number, weights: (i: number) => number) => {
      const map = run[features]!;
      const [, channels, height, width] = map.dims as number[];
      const data = map.data as Float32Array;
      const area = height! * width!;
      const mean = Array.from({ length: channels! }, (_, c) => data.subarray(c * area, (c + 1) * area).reduce((a, b) => a + b, 0) / area);
      return Array.from({ length: classes }, (_, k) => mean.reduce((sum, value, c) => sum + value * Math.fround(weights(c * classes + k)), 0));
    };
    const check = (actual: Float32Array, wanted: number[]) => wanted.forEach((value, k) => expect(Math.abs(actual[k]! - value)).toBeLessThan(1e-4));
    check(run['a/logits']!.data as Float32Array, expected('fire9/concat_1', 2, (i) => Math.sin(i) / 40));
    check(run['a/logits_2']!.data as Float32Array, expected('fire5/concat_1', 3, (i) => Math.cos(i) / 40));
  });

  it('says which input is unbound, which binding names nothing, and refuses control flow', () => {
    const host = new GraphEditor(createModel(13));
    host.addInput('image', [1, 3, 8, 8]);
    const head = linearHead(3, new Float32Array(6));
    expect(() => graftGraph(host, head, {}, 'h')).toThrow(/input features is not bound/);
    expect(() => graftGraph(host, head, { features: 'missing' }, 'h')).toThrow(/bound to missing, which nothing in the graph produces/);

    const body = new GraphEditor(createModel(13));
    body.addInput('x', [1]);
    body.exposeOutput('x');
    const looping = new GraphEditor(createModel(13));
    looping.addInput('x', [1]);
    looping.addNode('If', ['x'], ['y'], { then_branch: { graph: body.graph }, else_branch: { graph: body.graph } });
    expect(() => graftGraph(host, looping.graph, { x: 'image' }, 'h')).toThrow(/cannot graft If .*nodes holding subgraphs are not supported/);
  });
});
