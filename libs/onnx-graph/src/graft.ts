import type { GraphProto, NodeProto } from './generated/onnx/onnx';
import type { GraphEditor } from './graph-editor';
import { InvalidOnnxModelError } from './onnx-model';

/**
 * Copies a subgraph (a head written as its own graph) into the editor's
 * graph: its initializers and nodes get fresh names under `prefix`, its
 * inputs read the host values named in `bindings`, and the host names of
 * its outputs come back, keyed by the subgraph's own output names. The
 * subgraph's operators run under the host's opset, so the caller picks a
 * host that has them. Control flow (nodes holding graphs) is refused: its
 * bodies may read outer names, which would have to be renamed too.
 */
export function graftGraph(editor: GraphEditor, subgraph: GraphProto, bindings: Readonly<Record<string, string>>, prefix: string): Record<string, string> {
  const renamed = new Map<string, string>();
  const constants = new Set(subgraph.initializer.map((tensor) => tensor.name!));
  for (const input of subgraph.input) {
    const name = input.name!;
    if (constants.has(name)) continue;
    const host = bindings[name];
    if (host === undefined) throw new InvalidOnnxModelError(`the subgraph's input ${name} is not bound to a value of the graph`);
    if (!editor.has(host)) throw new InvalidOnnxModelError(`the subgraph's input ${name} is bound to ${host}, which nothing in the graph produces`);
    renamed.set(name, host);
  }
  for (const tensor of subgraph.initializer) {
    renamed.set(tensor.name!, editor.addInitializer({ ...tensor, name: `${prefix}/${tensor.name}` }));
  }
  for (const node of subgraph.node) {
    if (node.attribute.some((attribute) => attribute.g || attribute.graphs.length > 0)) {
      throw new InvalidOnnxModelError(`cannot graft ${node.opType} ${node.name}: nodes holding subgraphs are not supported`);
    }
    if ((node.domain ?? '') !== '') throw new InvalidOnnxModelError(`cannot graft ${node.name}: operator domain ${node.domain} is not the default one`);
    const input = node.input.map((name) => {
      if (name === '') return name;
      const host = renamed.get(name);
      if (host === undefined) throw new InvalidOnnxModelError(`${node.opType} ${node.name} reads ${name}, which the subgraph does not produce before it`);
      return host;
    });
    const output = node.output.map((name) => {
      if (name === '') return name;
      const host = editor.freshName(`${prefix}/${name}`);
      renamed.set(name, host);
      return host;
    });
    const copy: NodeProto = { ...node, name: editor.freshName(`${prefix}/${node.name || node.opType}`), input, output };
    editor.graph.node.push(copy);
  }
  return Object.fromEntries(
    subgraph.output.map((output) => {
      const host = renamed.get(output.name!);
      if (host === undefined) throw new InvalidOnnxModelError(`the subgraph's output ${output.name} is produced by none of its nodes`);
      return [output.name!, host];
    }),
  );
}
