import { createModel, floatTensor, graftGraph, GraphEditor, type ModelProto, prepareBackbone } from '@loupe/onnx-graph';
import type { HeadGraph } from './anomaly-head';

/** A head to put on the station model's backbone, under a name that prefixes its values and outputs. */
export interface NamedHead extends HeadGraph {
  name: string;
}

export interface StationModel {
  model: ModelProto;
  /** Per head: each output of its graph (kept or not) -> the value's name in the model. */
  values: Record<string, Record<string, string>>;
  /** Per head: each constant of its graph -> the initializer's name in the model. */
  constants: Record<string, Record<string, string>>;
}

/**
 * One ONNX model for a station: the backbone runs once and every head
 * reads the layers it needs from that one pass. The heads' outputs are the
 * model's outputs, in head order; the image input gets the station's fixed
 * size (the heads' constants depend on it) and a free batch.
 */
export function composeStationModel(backbone: ModelProto, heads: readonly NamedHead[], input: { height: number; width: number }): StationModel {
  if (heads.length === 0) throw new RangeError('a station model needs at least one head');
  const names = heads.map((head) => head.name);
  if (new Set(names).size !== names.length) throw new RangeError(`head names must differ: ${names.join(', ')}`);
  const layers = [...new Set(heads.flatMap((head) => Object.values(head.inputs)))];
  const model = prepareBackbone(backbone, { outputs: layers });
  const editor = new GraphEditor(model);
  const values: StationModel['values'] = {};
  const constants: StationModel['constants'] = {};
  const outputs: string[] = [];
  for (const head of heads) {
    const grafted = graftGraph(editor, head.graph, head.inputs, head.name);
    values[head.name] = grafted.outputs;
    constants[head.name] = grafted.constants;
    for (const output of head.outputs) {
      const value = grafted.outputs[output];
      if (value === undefined) throw new RangeError(`head ${head.name} has no output ${output}`);
      outputs.push(value);
    }
  }
  editor.keepOutputs(outputs);
  editor.prune();
  const dims = model.graph!.input[0]!.type!.tensorType!.shape!.dim;
  dims[2] = { dimValue: input.height };
  dims[3] = { dimValue: input.width };
  return { model, values, constants };
}

/**
 * The head a trainer writes (a Monitor): GlobalAveragePool over one backbone
 * value, a linear layer, softmax. `weights` is row-major [channels, classes].
 */
export function linearClassifierHead(backbone: ModelProto, options: { layer: string; weights: Float32Array; bias: Float32Array }): HeadGraph {
  const classes = options.bias.length;
  if (classes < 2 || options.weights.length % classes !== 0) {
    throw new RangeError(`a classifier needs at least 2 classes and [channels, classes] weights; got ${options.weights.length} weights for ${classes} classes`);
  }
  const editor = new GraphEditor(createModel(new GraphEditor(backbone).opsetVersion, 'classifier'));
  const features = editor.addInput(options.layer, ['batch', options.weights.length / classes, 'height', 'width']);
  const [pooled] = editor.addNode('GlobalAveragePool', [features], ['pooled']);
  const [flat] = editor.addNode('Flatten', [pooled!], ['flat'], { axis: { int: 1 } });
  const weights = editor.addInitializer(floatTensor('weights', [options.weights.length / classes, classes], options.weights));
  const bias = editor.addInitializer(floatTensor('bias', [classes], options.bias));
  const [logits] = editor.addNode('Gemm', [flat!, weights, bias], ['logits']);
  const [scores] = editor.addNode('Softmax', [logits!], ['scores'], { axis: { int: 1 } });
  editor.exposeOutput(scores!, ['batch', classes]);
  return { graph: editor.graph, inputs: { [options.layer]: options.layer }, outputs: ['scores'] };
}
