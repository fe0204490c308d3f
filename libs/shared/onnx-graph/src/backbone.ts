import { ModelProto } from './generated/onnx/onnx';
import { GraphEditor } from './graph-editor';
import { InvalidOnnxModelError } from './onnx-model';

export interface BackboneOptions {
  /** Values of the graph to serve as outputs (feature maps), in this order; the model's own outputs go unless named. */
  outputs: readonly string[];
}

// IR 4 is the first version in which an initializer need not also be a
// graph input; ONNX Runtime treats initializers listed as inputs as values
// a caller may override, which keeps it from folding them as constants.
const MIN_IR_VERSION = 4;

/**
 * Turns a classifier exported for one fixed input into a feature extractor:
 * initializers are no longer listed as inputs (old exporters did that), the
 * batch and spatial dimensions of its image input are free, shapes recorded
 * for the old fixed size are dropped, the chosen intermediate values become
 * the outputs, and whatever only fed the old outputs (the classifier) goes.
 * Works on a copy; the model passed in is left as it was.
 */
export function prepareBackbone(original: ModelProto, options: BackboneOptions): ModelProto {
  if (options.outputs.length === 0) throw new InvalidOnnxModelError('a backbone needs at least one output to serve as features');
  // A copy through the wire format keeps bytes fields as Buffers, which structuredClone does not.
  const model = ModelProto.decode(ModelProto.encode(original).finish());
  const editor = new GraphEditor(model);
  const { graph } = editor;
  const constants = new Set(graph.initializer.map((tensor) => tensor.name));
  graph.input = graph.input.filter((input) => !constants.has(input.name));
  if (graph.input.length !== 1) {
    throw new InvalidOnnxModelError(`a backbone takes one image input; this model has ${graph.input.length}: ${graph.input.map((input) => input.name).join(', ')}`);
  }
  freeImageDimensions(graph.input[0]!.type?.tensorType?.shape?.dim ?? []);
  // Recorded for the old fixed size, so wrong for any other; ONNX Runtime infers them again.
  graph.valueInfo = [];
  graph.output = [];
  for (const output of options.outputs) editor.exposeOutput(output);
  editor.prune();
  model.irVersion = Math.max(model.irVersion ?? 0, MIN_IR_VERSION);
  return model;
}

/** Batch first; for a 4-D image input (NCHW), height and width too. */
function freeImageDimensions(dims: { dimValue?: number; dimParam?: string }[]): void {
  const names = dims.length === 4 ? ['batch', undefined, 'height', 'width'] : ['batch'];
  names.forEach((name, axis) => {
    const dim = dims[axis];
    if (!dim || name === undefined) return;
    delete dim.dimValue;
    dim.dimParam = name;
  });
}
