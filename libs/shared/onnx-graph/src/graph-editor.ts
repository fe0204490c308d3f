import {
  type AttributeProto,
  AttributeProto_AttributeType,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  TensorProto_DataType,
  type ValueInfoProto,
} from './generated/onnx/onnx';
import { InvalidOnnxModelError } from './onnx-model';

export type AttributeValue =
  | number
  | string
  | readonly number[]
  | { int: number }
  | { ints: readonly number[] }
  | { graph: GraphProto }
  | TensorProto;

/** A dimension of a graph input or output: a fixed size, a named free size, or unknown. */
export type Dimension = number | string | undefined;

/**
 * Edits a model's main graph in place: new constants and nodes under names
 * that cannot collide with existing ones, outputs exposed or dropped, and
 * pruning of what no output needs. It knows ONNX's structure, not what the
 * operators compute; callers choose the operators.
 */
export class GraphEditor {
  readonly graph: GraphProto;
  private readonly taken = new Set<string>();
  private readonly outer = new Set<string>();

  constructor(readonly model: ModelProto) {
    if (!model.graph) throw new InvalidOnnxModelError('the ONNX model has no graph');
    this.graph = model.graph;
    for (const node of this.graph.node) {
      if (node.name) this.taken.add(node.name);
      for (const name of [...node.input, ...node.output]) this.taken.add(name);
    }
    for (const value of [...this.graph.input, ...this.graph.output, ...this.graph.valueInfo]) if (value.name) this.taken.add(value.name);
    for (const tensor of this.graph.initializer) if (tensor.name) this.taken.add(tensor.name);
  }

  /** `prefix`, or `prefix_2`, `prefix_3`, ... whichever no node, value or initializer uses yet. */
  freshName(prefix: string): string {
    let name = prefix;
    for (let n = 2; this.taken.has(name); n++) name = `${prefix}_${n}`;
    this.taken.add(name);
    return name;
  }

  /**
   * Lets this graph's nodes read a value of the graph that will hold it as
   * a subgraph (a Loop body reading its enclosing scope, as ONNX allows).
   */
  readOuterValue(name: string): string {
    this.outer.add(name);
    this.taken.add(name);
    return name;
  }

  /** Whether a value of this name is produced by a node, an initializer, a graph input, or the enclosing graph. */
  has(name: string): boolean {
    return (
      this.outer.has(name) ||
      this.graph.node.some((node) => node.output.includes(name)) ||
      this.graph.initializer.some((tensor) => tensor.name === name) ||
      this.graph.input.some((input) => input.name === name)
    );
  }

  /** Adds a constant under a fresh name based on the tensor's own; returns the name used. */
  addInitializer(tensor: TensorProto): string {
    const name = this.freshName(tensor.name ?? 'constant');
    this.graph.initializer.push({ ...tensor, name });
    return name;
  }

  /** Appends a node of the default domain; returns its output names (fresh, based on `outputs`). */
  addNode(opType: string, inputs: readonly string[], outputs: readonly string[], attributes: Record<string, AttributeValue> = {}): string[] {
    for (const input of inputs) {
      if (input !== '' && !this.has(input)) throw new InvalidOnnxModelError(`${opType} reads ${input}, which nothing in the graph produces`);
    }
    const names = outputs.map((output) => this.freshName(output));
    const node: NodeProto = {
      name: this.freshName(`${opType}_${names[0] ?? 'node'}`),
      opType,
      domain: '',
      input: [...inputs],
      output: names,
      attribute: Object.entries(attributes).map(([name, value]) => toAttribute(name, value)),
    };
    this.graph.node.push(node);
    return names;
  }

  /** Declares a graph input (float unless said otherwise); returns its name, which must be free. */
  addInput(name: string, dims?: readonly Dimension[], elemType: TensorProto_DataType = TensorProto_DataType.FLOAT): string {
    if (this.taken.has(name)) throw new InvalidOnnxModelError(`cannot add input ${name}: the graph already uses that name`);
    this.taken.add(name);
    this.graph.input.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Makes a value a graph output (float unless said otherwise), keeping the outputs already there. */
  exposeOutput(name: string, dims?: readonly Dimension[], elemType: TensorProto_DataType = TensorProto_DataType.FLOAT): void {
    if (!this.has(name)) throw new InvalidOnnxModelError(`cannot expose ${name}: nothing in the graph produces it`);
    if (this.graph.output.some((output) => output.name === name)) return;
    this.graph.output.push(valueInfo(name, elemType, dims));
  }

  /** Keeps only these graph outputs, in this order. */
  keepOutputs(names: readonly string[]): void {
    const existing = new Map(this.graph.output.map((output) => [output.name, output]));
    this.graph.output = [];
    for (const name of names) {
      const known = existing.get(name);
      if (known) this.graph.output.push(known);
      else this.exposeOutput(name);
    }
  }

  /**
   * Drops the nodes no graph output depends on, then the initializers and
   * value infos nothing reads any more. Graph inputs stay: they are the
   * model's interface.
   */
  prune(): void {
    const needed = new Set(this.graph.output.map((output) => output.name!));
    const kept: NodeProto[] = [];
    for (const node of [...this.graph.node].reverse()) {
      if (!node.output.some((output) => needed.has(output))) continue;
      kept.push(node);
      for (const input of node.input) needed.add(input);
      for (const attribute of node.attribute) for (const graph of [attribute.g, ...attribute.graphs]) if (graph) addOuterReads(graph, needed);
    }
    this.graph.node = kept.reverse();
    this.graph.initializer = this.graph.initializer.filter((tensor) => needed.has(tensor.name!));
    this.graph.valueInfo = this.graph.valueInfo.filter((value) => needed.has(value.name!));
  }

  /** The version of the default operator set the model imports. */
  get opsetVersion(): number {
    return this.model.opsetImport.find((opset) => (opset.domain ?? '') === '')?.version ?? 0;
  }
}

/** A graph input or output declaration. */
export function valueInfo(name: string, elemType: TensorProto_DataType, dims?: readonly Dimension[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        ...(dims ? { shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : dim === undefined ? {} : { dimParam: dim })) } } : {}),
      },
    },
  };
}

// Subgraphs (If, Loop, Scan) may read values of the outer graph by name.
function addOuterReads(graph: GraphProto, needed: Set<string>): void {
  for (const node of graph.node) {
    for (const input of node.input) needed.add(input);
    for (const attribute of node.attribute) for (const inner of [attribute.g, ...attribute.graphs]) if (inner) addOuterReads(inner, needed);
  }
}

function toAttribute(name: string, value: AttributeValue): AttributeProto {
  const base: AttributeProto = { name, floats: [], ints: [], strings: [], tensors: [], graphs: [], sparseTensors: [], typeProtos: [] };
  if (typeof value === 'number') return { ...base, type: AttributeProto_AttributeType.FLOAT, f: value };
  if (typeof value === 'string') return { ...base, type: AttributeProto_AttributeType.STRING, s: Buffer.from(value, 'utf8') };
  if (isNumberList(value)) return { ...base, type: AttributeProto_AttributeType.FLOATS, floats: [...value] };
  if ('int' in value) return { ...base, type: AttributeProto_AttributeType.INT, i: value.int };
  if ('ints' in value) return { ...base, type: AttributeProto_AttributeType.INTS, ints: [...value.ints] };
  // A subgraph: the body of Loop or Scan, a branch of If.
  if ('graph' in value) return { ...base, type: AttributeProto_AttributeType.GRAPH, g: value.graph };
  return { ...base, type: AttributeProto_AttributeType.TENSOR, t: value };
}

function isNumberList(value: AttributeValue): value is readonly number[] {
  return Array.isArray(value);
}
