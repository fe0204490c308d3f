import type { GraphProto, NodeProto } from './generated/onnx/onnx';
import type { GraphEditor } from './graph-editor';
import { InvalidOnnxModelError } from './onnx-model';

/** Host names of a grafted subgraph's outputs and constants, keyed by its own names. */
export interface GraftedNames {
  outputs: Record<string, string>;
  constants: Record<string, string>;
}

/**
 * Copies a subgraph (a head written as its own graph) into the editor's
 * graph: its initializers and nodes get fresh names under `prefix`, its
 * inputs read the host values named in `bindings`. What comes back is the
 * host name of each of its outputs and of each of its constants (where to
 * find weights later), keyed by the subgraph's own names. The
 * subgraph's operators run under the host's opset, so the caller picks a
 * host that has them. Control flow (nodes holding graphs) is refused: its
 * bodies may read outer names, which would have to be renamed too.
 */
export function graftGraph(editor: GraphEditor, subgraph: GraphProto, bindings: Readonly<Record<string, string>>, prefix: string): GraftedNames {
  const renamed = new Map<string, string>();
  const constants: Record<string, string> = {};
  const initializers = new Set(subgraph.initializer.map((tensor) => tensor.name!));
  for (const input of subgraph.input) {
    const name = input.name!;
    if (initializers.has(name)) continue;
    const host = bindings[name];
    if (host === undefined) throw new InvalidOnnxModelError(`the subgraph's input ${name} is not bound to a value of the graph`);
    if (!editor.has(host)) throw new InvalidOnnxModelError(`the subgraph's input ${name} is bound to ${host}, which nothing in the graph produces`);
    renamed.set(name, host);
  }
  for (const tensor of subgraph.initializer) {
    const host = editor.addInitializer({ ...tensor, name: `${prefix}/${tensor.name}` });
    renamed.set(tensor.name!, host);
    constants[tensor.name!] = host;
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
  const outputs = Object.fromEntries(
    subgraph.output.map((output) => {
      const host = renamed.get(output.name!);
      if (host === undefined) throw new InvalidOnnxModelError(`the subgraph's output ${output.name} is produced by none of its nodes`);
      return [output.name!, host];
    }),
  );
  return { outputs, constants };
}
