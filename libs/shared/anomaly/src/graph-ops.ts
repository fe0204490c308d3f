import { type GraphEditor, int64Tensor } from '@loupe/onnx-graph';

/**
 * The few operators whose form changed across opsets (axes, starts, k moved
 * from attributes to inputs), written the way the editor's opset wants, so
 * heads work on the shipped SqueezeNet (opset 7) and on newer backbones.
 */

type Reduction = 'ReduceMax' | 'ReduceMean' | 'ReduceSumSquare';

/** A reduction over `axes`; axes became an input in opset 18 (ReduceSum in 13). */
export function reduce(editor: GraphEditor, op: Reduction, value: string, axes: readonly number[], keepDims: boolean, output: string): string {
  const keep = { keepdims: { int: keepDims ? 1 : 0 } };
  if (editor.opsetVersion >= 18) {
    return editor.addNode(op, [value, constantInts(editor, 'axes', axes)], [output], keep)[0]!;
  }
  return editor.addNode(op, [value], [output], { ...keep, axes: { ints: axes } })[0]!;
}

/** Elements [starts, ends) along `axes`; these became inputs in opset 10. */
export function slice(editor: GraphEditor, value: string, starts: readonly number[], ends: readonly number[], axes: readonly number[], output: string): string {
  if (editor.opsetVersion >= 10) {
    const inputs = [value, constantInts(editor, 'starts', starts), constantInts(editor, 'ends', ends), constantInts(editor, 'axes', axes)];
    return editor.addNode('Slice', inputs, [output])[0]!;
  }
  return editor.addNode('Slice', [value], [output], { starts: { ints: starts }, ends: { ints: ends }, axes: { ints: axes } })[0]!;
}

/** The `k` largest values along the last axis; k became an input in opset 10. */
export function topKValues(editor: GraphEditor, value: string, k: number, output: string): string {
  if (editor.opsetVersion >= 10) {
    return editor.addNode('TopK', [value, constantInts(editor, 'k', [k])], [output, `${output}_indices`], { axis: { int: -1 } })[0]!;
  }
  return editor.addNode('TopK', [value], [output, `${output}_indices`], { k: { int: k }, axis: { int: -1 } })[0]!;
}

/** Reshape to a constant shape (0 keeps that dimension, -1 infers one). */
export function reshape(editor: GraphEditor, value: string, shape: readonly number[], output: string): string {
  return editor.addNode('Reshape', [value, constantInts(editor, 'shape', shape)], [output])[0]!;
}

function constantInts(editor: GraphEditor, name: string, values: readonly number[]): string {
  return editor.addInitializer(int64Tensor(name, [values.length], [...values]));
}
