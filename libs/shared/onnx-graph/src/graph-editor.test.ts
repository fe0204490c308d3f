import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { prepareBackbone } from './backbone';
import { GraphEditor } from './graph-editor';
import { TensorProto_DataType } from './generated/onnx/onnx';
import { createModel, InvalidOnnxModelError, readOnnxModel, writeOnnxModel } from './onnx-model';
import { floatTensor, int64Tensor, readFloatTensor } from './tensors';

const folder = join(import.meta.dirname, '..', '..', '..', '..', 'tools', 'testdata', 'models', 'squeezenet1.0');

describe('GraphEditor', () => {
  it('appends a head whose numbers onnxruntime reproduces within 1e-5', async () => {
    const model = prepareBackbone(readOnnxModel(await readFile(join(folder, 'SqueezeNet_fp32.from-fp16.onnx'))), { outputs: ['fire9/concat_1'] });
    const editor = new GraphEditor(model);
    const classes = 3;
    const weights = Float32Array.from({ length: 512 * classes }, (_, i) => Math.sin(i) / 50);
    const bias = Float32Array.from([0.1, -0.2, 0.3]);
    const [pooled] = editor.addNode('GlobalAveragePool', ['fire9/concat_1'], ['pooled']);
    const [flat] = editor.addNode('Flatten', [pooled!], ['flat'], { axis: { int: 1 } });
    const [logits] = editor.addNode('Gemm', [flat!, editor.addInitializer(floatTensor('head_w', [512, classes], weights)), editor.addInitializer(floatTensor('head_b', [classes], bias))], ['logits']);
    const [scores] = editor.addNode('Softmax', [logits!], ['scores'], { axis: { int: 1 } });
    editor.keepOutputs(['fire9/concat_1', scores!]);

    const session = await ort.InferenceSession.create(writeOnnxModel(model), { intraOpNumThreads: 1 });
    const image = Float32Array.from({ length: 3 * 96 * 96 }, (_, i) => (i * 37) % 256);
    const run = await session.run({ data_0: new ort.Tensor('float32', image, [1, 3, 96, 96]) });
    const features = run['fire9/concat_1']!;
    const [, channels, height, width] = features.dims as number[];
    const map = features.data as Float32Array;
    const mean = Array.from({ length: channels! }, (_, c) => map.subarray(c * height! * width!, (c + 1) * height! * width!).reduce((a, b) => a + b, 0) / (height! * width!));
    const z = Array.from({ length: classes }, (_, k) => mean.reduce((sum, value, c) => sum + value * weights[c * classes + k]!, bias[k]!));
    const top = Math.max(...z);
    const exp = z.map((value) => Math.exp(value - top));
    const expected = exp.map((value) => value / exp.reduce((a, b) => a + b, 0));
    const actual = run.scores!.data as Float32Array;
    expected.forEach((value, k) => expect(Math.abs(actual[k]! - value)).toBeLessThan(1e-5));
  });

  it('names new values so they never collide with the graph’s own', async () => {
    const editor = new GraphEditor(readOnnxModel(await readFile(join(folder, 'SqueezeNet_fp32.from-fp16.onnx'))));
    expect(editor.freshName('conv1_1')).toBe('conv1_1_2');
    expect(editor.freshName('conv1_1')).toBe('conv1_1_3');
    expect(editor.freshName('brand_new')).toBe('brand_new');
    expect(() => editor.addNode('Relu', ['no_such_value'], ['out'])).toThrow(/Relu reads no_such_value, which nothing in the graph produces/);
  });
});

describe('reading models', () => {
  it('refuses bytes that are no ONNX model with InvalidOnnxModelError, whatever they are', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        try {
          readOnnxModel(bytes);
          return false;
        } catch (error) {
          return error instanceof InvalidOnnxModelError;
        }
      }),
    );
  });

  it('reads float16 weights as float32 within float16 precision', async () => {
    const [half, full] = await Promise.all(['SqueezeNet_fp16.onnx', 'SqueezeNet_fp32.from-fp16.onnx'].map(async (file) => readOnnxModel(await readFile(join(folder, file)))));
    const name = 'conv1_w_0';
    const a = readFloatTensor(half!.graph!.initializer.find((tensor) => tensor.name === name)!);
    const b = readFloatTensor(full!.graph!.initializer.find((tensor) => tensor.name === name)!);
    expect(a.length).toBe(b.length);
    expect(a).toEqual(b);
  });

  it('writes tensors that read back to the same values', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ noNaN: true }), { minLength: 1, maxLength: 64 }), (values) => {
        const back = readFloatTensor(floatTensor('t', [values.length], values));
        return back.every((value, i) => Object.is(value, Math.fround(values[i]!)));
      }),
    );
    expect(int64Tensor('shape', [2], [1, -1]).rawData).toEqual(Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255]));
    expect(() => floatTensor('t', [2, 2], [1, 2, 3])).toThrow(/shape \[2, 2\] \(4 values\) but 3 were given/);
  });
});

describe('createModel', () => {
  it('makes a model onnxruntime runs, with a Loop body given as a graph attribute that reads the enclosing scope', async () => {
    const editor = new GraphEditor(createModel(17));
    const start = editor.addInput('start', [1]);
    const trips = editor.addInitializer(int64Tensor('trips', [], [4]));
    editor.addInitializer(floatTensor('step', [1], [2.5]));
    const body = new GraphEditor(createModel(17));
    body.addInput('iteration', [], TensorProto_DataType.INT64);
    const keepGoing = body.addInput('keep_going', [], TensorProto_DataType.BOOL);
    const total = body.addInput('total', [1]);
    const step = body.readOuterValue('step');
    const [next] = body.addNode('Add', [total, step], ['next']);
    const [kept] = body.addNode('Identity', [keepGoing], ['kept']);
    body.exposeOutput(kept!, [], TensorProto_DataType.BOOL);
    body.exposeOutput(next!, [1]);
    const [result] = editor.addNode('Loop', [trips, '', start], ['result'], { body: { graph: body.graph } });
    editor.exposeOutput(result!, [1]);
    const session = await ort.InferenceSession.create(writeOnnxModel(editor.model));
    const run = await session.run({ start: new ort.Tensor('float32', Float32Array.from([1]), [1]) });
    expect(run[result!]!.data).toEqual(Float32Array.from([11]));
    expect(() => createModel(6)).toThrow(/opset 6 is not one this library can write/);
  });
});
