import type { AttributeProto, ModelProto, NodeProto } from './generated/onnx/onnx';
import { InvalidOnnxModelError } from './onnx-model';

/**
 * Where the cells of a feature map sit in the input image along one axis:
 * cell i is centred on input pixel `offset + stride * i` and sees
 * `receptiveField` pixels around that centre (padding included).
 */
export interface AxisGeometry {
  stride: number;
  offset: number;
  receptiveField: number;
  /** Cells along this axis for the input size asked about. */
  cells: number;
}

export interface FeatureMapGeometry {
  /** Channels of the value (NCHW): what a head reading it must expect. */
  channels: number;
  y: AxisGeometry;
  x: AxisGeometry;
}

interface Window {
  kernel: [number, number];
  stride: [number, number];
  padBegin: [number, number];
  padEnd: [number, number];
  dilation: [number, number];
  ceil: boolean;
}

const IDENTITY: AxisGeometry = { stride: 1, offset: 0, receptiveField: 1, cells: 0 };

// Operators that keep every cell where it was: element-wise ones, and
// Concat along channels. The list is closed on purpose: anything else (a
// Resize, a Reshape) moves cells, and guessing would put heat maps in the
// wrong place.
const SAME_PLACE = new Set([
  'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Clip', 'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'PRelu',
  'BatchNormalization', 'InstanceNormalization', 'Dropout', 'Identity', 'Add', 'Sub', 'Mul', 'Div', 'Sum', 'Max', 'Min', 'Mean', 'Concat',
]);

/**
 * The geometry of an intermediate NCHW value for an input image of the
 * given size: walks back from the value to the image input through Conv,
 * MaxPool and AveragePool windows (kernel, stride, pads, dilation) and the
 * operators that keep cells in place. Needed to draw a feature map's cells
 * on the image and to align maps of different strides.
 */
export function featureMapGeometry(model: ModelProto, value: string, input: { height: number; width: number }): FeatureMapGeometry {
  const graph = model.graph;
  if (!graph) throw new InvalidOnnxModelError('the ONNX model has no graph');
  const constants = new Map(graph.initializer.map((tensor) => [tensor.name!, tensor]));
  const producers = new Map<string, NodeProto>();
  for (const node of graph.node) for (const output of node.output) producers.set(output, node);
  const imageInputs = new Set(graph.input.map((entry) => entry.name!).filter((name) => !constants.has(name)));
  const memo = new Map<string, FeatureMapGeometry>();

  const visit = (name: string): FeatureMapGeometry => {
    const known = memo.get(name);
    if (known) return known;
    let result: FeatureMapGeometry;
    if (imageInputs.has(name)) {
      result = { channels: 3, y: { ...IDENTITY, cells: input.height }, x: { ...IDENTITY, cells: input.width } };
    } else {
      const node = producers.get(name);
      if (!node) throw new InvalidOnnxModelError(`nothing in the graph produces ${name}`);
      result = throughNode(node, (input) => visit(input), constants);
    }
    memo.set(name, result);
    return result;
  };
  return visit(value);
}

function throughNode(node: NodeProto, visit: (name: string) => FeatureMapGeometry, constants: Map<string, { dims: number[] }>): FeatureMapGeometry {
  const opType = node.opType ?? '';
  const data = node.input.filter((name) => name !== '' && !constants.has(name));
  if (opType === 'Conv' || opType === 'MaxPool' || opType === 'AveragePool') {
    const before = visit(node.input[0]!);
    const weights = opType === 'Conv' ? constants.get(node.input[1] ?? '') : undefined;
    if (opType === 'Conv' && !weights) throw new InvalidOnnxModelError(`${node.name}: Conv weights that are not a constant are not supported`);
    // Conv may leave kernel_shape out: its weights [out, in, kh, kw] say it.
    const window = windowOf(node, weights ? [weights.dims[2]!, weights.dims[3]!] : undefined);
    return {
      channels: weights ? weights.dims[0]! : before.channels,
      y: throughWindow(before.y, window, 0),
      x: throughWindow(before.x, window, 1),
    };
  }
  if (SAME_PLACE.has(opType) && data.length > 0) {
    const parts = data.map(visit);
    const [first] = parts;
    for (const part of parts) {
      if (part.y.stride !== first!.y.stride || part.x.stride !== first!.x.stride || part.y.offset !== first!.y.offset || part.x.offset !== first!.x.offset) {
        throw new InvalidOnnxModelError(`${node.name}: ${opType} joins feature maps whose cells sit in different places`);
      }
    }
    const axis = (previous: AxisGeometry, key: 'y' | 'x') => ({ ...previous, receptiveField: Math.max(...parts.map((part) => part[key].receptiveField)) });
    const channels = opType === 'Concat' ? parts.reduce((sum, part) => sum + part.channels, 0) : first!.channels;
    return { channels, y: axis(first!.y, 'y'), x: axis(first!.x, 'x') };
  }
  throw new InvalidOnnxModelError(`${node.name}: cannot follow feature-map geometry through ${opType}`);
}

function throughWindow(before: AxisGeometry, window: Window, axis: 0 | 1): AxisGeometry {
  const kernel = window.kernel[axis];
  const stride = window.stride[axis];
  const dilation = window.dilation[axis];
  const span = dilation * (kernel - 1);
  const padded = before.cells + window.padBegin[axis] + window.padEnd[axis] - span - 1;
  const cells = (window.ceil ? Math.ceil(padded / stride) : Math.floor(padded / stride)) + 1;
  return {
    stride: before.stride * stride,
    offset: before.offset + before.stride * (span / 2 - window.padBegin[axis]),
    receptiveField: before.receptiveField + before.stride * span,
    cells,
  };
}

function windowOf(node: NodeProto, weightKernel?: [number, number]): Window {
  const attribute = (name: string): AttributeProto | undefined => node.attribute.find((entry) => entry.name === name);
  const autoPad = attribute('auto_pad')?.s;
  if (autoPad && autoPad.length > 0 && Buffer.from(autoPad).toString('utf8') !== 'NOTSET') {
    throw new InvalidOnnxModelError(`${node.name}: auto_pad is not supported; pads must be explicit`);
  }
  const pair = (name: string, fallback: number): [number, number] => {
    const values = attribute(name)?.ints ?? [];
    return values.length >= 2 ? [values[0]!, values[1]!] : [fallback, fallback];
  };
  const kernel = attribute('kernel_shape') ? pair('kernel_shape', 0) : (weightKernel ?? [0, 0]);
  if (kernel[0] === 0) throw new InvalidOnnxModelError(`${node.name}: kernel_shape must be stated`);
  const pads = attribute('pads')?.ints ?? [];
  return {
    kernel,
    stride: pair('strides', 1),
    dilation: pair('dilations', 1),
    padBegin: [pads[0] ?? 0, pads[1] ?? 0],
    padEnd: [pads[2] ?? 0, pads[3] ?? 0],
    ceil: (attribute('ceil_mode')?.i ?? 0) === 1,
  };
}
