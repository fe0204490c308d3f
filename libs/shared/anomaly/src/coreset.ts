import { createModel, floatTensor, GraphEditor, int64Tensor, TensorProto_DataType, writeOnnxModel } from '@loupe/onnx-graph';
import ort from 'onnxruntime-node';
import { reduce, reshape } from './graph-ops';
import { SeededRandom } from './seeded-random';

const OPSET = 17;

export interface CoresetOptions {
  /** Rows are compared in a random projection to this many dimensions (PatchCore's approximation). */
  reducedDimension: number;
  seed: number;
  threads?: number;
}

export interface Coreset {
  /** The picked rows, full dimension, in the order they were picked. */
  rows: Float32Array;
  count: number;
  /** In the reduced space: the largest distance from any row to its nearest picked row. */
  reducedRadius: number;
}

/**
 * Greedy k-center selection (PatchCore's coreset): start from the row
 * farthest from the mean, then repeatedly pick the row farthest from all
 * rows picked so far. The whole selection is one ONNX Loop inside one
 * session call; each step is one matrix-vector product and a running
 * minimum over all rows, in a random projection to fewer dimensions so
 * that the rows stay in cache. It stops early once every row coincides
 * with a picked one (repeated background patches).
 */
export class GreedyCoreset {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly dimension: number,
  ) {}

  static async create(dimension: number, options: CoresetOptions): Promise<GreedyCoreset> {
    const model = coresetModel(dimension, options);
    const session = await ort.InferenceSession.create(writeOnnxModel(model), { intraOpNumThreads: options.threads ?? 0, graphOptimizationLevel: 'all' });
    return new GreedyCoreset(session, dimension);
  }

  /**
   * Up to `count` of `rows` (row-major [n, dimension]), each returned with
   * `center` subtracted (zeros when not given); fewer when every row lies
   * within `stopRadius` (in the reduced space) of a picked one.
   */
  async select(rows: Float32Array, count: number, options: { center?: Float32Array; stopRadius?: number } = {}): Promise<Coreset> {
    const n = rows.length / this.dimension;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`rows must be a non-empty [n, ${this.dimension}] matrix; got ${rows.length} values`);
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`a coreset needs a positive whole count, not ${count}`);
    const run = await this.session.run({
      rows: new ort.Tensor('float32', rows, [n, this.dimension]),
      center: new ort.Tensor('float32', options.center ?? new Float32Array(this.dimension), [1, this.dimension]),
      count: new ort.Tensor('int64', BigInt64Array.from([BigInt(Math.min(count, n))]), []),
      stop_squared: new ort.Tensor('float32', Float32Array.from([(options.stopRadius ?? 0) ** 2]), []),
    });
    const picked = run.picked!;
    const result = { rows: (picked.data as Float32Array).slice(), count: picked.dims[0]!, reducedRadius: Math.sqrt((run.radius_squared!.data as Float32Array)[0]!) };
    for (const tensor of Object.values(run)) tensor.dispose();
    return result;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function coresetModel(dimension: number, options: CoresetOptions) {
  const editor = new GraphEditor(createModel(OPSET, 'coreset'));
  const raw = editor.addInput('rows', ['n', dimension]);
  const [rows] = editor.addNode('Sub', [raw, editor.addInput('center', [1, dimension])], ['centred']);
  const count = editor.addInput('count', [], TensorProto_DataType.INT64);
  const projection = new SeededRandom(options.seed).gaussians(dimension * options.reducedDimension, 1 / Math.sqrt(options.reducedDimension));
  const [reduced] = editor.addNode('MatMul', [rows!, editor.addInitializer(floatTensor('projection', [dimension, options.reducedDimension], projection))], ['reduced']);
  const norms = reduce(editor, 'ReduceSumSquare', reduced!, [1], true, 'norms');
  // Rows as [-2y, |y|², 1], so that one product with [c, 1, |c|²] is |y - c|² for every row at once.
  const [minusTwice] = editor.addNode('Mul', [reduced!, editor.addInitializer(floatTensor('minus_two', [], [-2]))], ['minus_twice']);
  const [ones] = editor.addNode('ConstantOfShape', [editor.addNode('Shape', [norms], ['norms_shape'])[0]!], ['ones'], { value: floatTensor('one', [1], [1]) });
  const [augmented] = editor.addNode('Concat', [minusTwice!, norms, ones!], ['augmented'], { axis: { int: 1 } });
  const [transposed] = editor.addNode('Transpose', [augmented!], ['augmented_t'], { perm: { ints: [1, 0] } });
  // Rows closer than this count as the same row: the expansion's rounding is about this large.
  const [rounding] = editor.addNode('Mul', [reduce(editor, 'ReduceMean', norms, [0, 1], false, 'mean_norm'), editor.addInitializer(floatTensor('relative', [], [1e-5]))], ['rounding']);
  const [tolerance] = editor.addNode('Max', [rounding!, editor.addInput('stop_squared', [])], ['tolerance']);
  const mean = reduce(editor, 'ReduceMean', reduced!, [0], true, 'mean');
  const [offsets] = editor.addNode('Sub', [reduced!, mean], ['offsets']);
  const spread = reduce(editor, 'ReduceSumSquare', offsets!, [1], false, 'spread');
  const [first] = editor.addNode('ArgMax', [spread], ['first'], { axis: { int: 0 }, keepdims: { int: 1 } });
  const [unreached] = editor.addNode('ConstantOfShape', [editor.addNode('Shape', [reshape(editor, norms, [1, -1], 'norms_row')], ['row_shape'])[0]!], ['unreached'], {
    value: floatTensor('largest', [1], [3.0e38]),
  });
  const [keepGoing] = editor.addNode('Greater', [count, editor.addInitializer(int64Tensor('none', [], [0]))], ['keep_going']);
  const body = stepGraph(reduced!, transposed!, tolerance!);
  const [nearest, , picks] = editor.addNode('Loop', [count, keepGoing!, unreached!, first!], ['nearest', 'last', 'picks'], { body: { graph: body } });
  const [indices] = editor.addNode('Reshape', [picks!, editor.addInitializer(int64Tensor('flat', [1], [-1]))], ['indices']);
  const [picked] = editor.addNode('Gather', [rows!, indices!], ['picked_rows'], { axis: { int: 0 } });
  const [named] = editor.addNode('Identity', [picked!], ['picked']);
  editor.exposeOutput(named!, ['k', dimension]);
  const [clamped] = editor.addNode('Relu', [reduce(editor, 'ReduceMax', nearest!, [0, 1], false, 'farthest')], ['radius_squared']);
  editor.exposeOutput(clamped!, []);
  return editor.model;
}

/**
 * One greedy step: `last` joins the picked rows; every row's distance to its
 * nearest picked row is updated; the farthest row is next. Continues while
 * that row is farther than the tolerance. Names start with step_ so that
 * none shadows a name of the enclosing graph (ONNX requires SSA across scopes).
 */
function stepGraph(reduced: string, transposed: string, tolerance: string) {
  const body = new GraphEditor(createModel(OPSET, 'step'));
  body.addInput('step_iteration', [], TensorProto_DataType.INT64);
  body.addInput('step_condition', [], TensorProto_DataType.BOOL);
  const nearest = body.addInput('step_nearest_in', [1, 'n']);
  const last = body.addInput('step_last_in', [1], TensorProto_DataType.INT64);
  for (const outer of [reduced, transposed, tolerance]) body.readOuterValue(outer);
  const [center] = body.addNode('Gather', [reduced, last], ['step_center'], { axis: { int: 0 } });
  const centerNorm = reduce(body, 'ReduceSumSquare', center!, [1], true, 'step_center_norm');
  const one = body.addInitializer(floatTensor('step_one', [1, 1], [1]));
  const [augmented] = body.addNode('Concat', [center!, one, centerNorm], ['step_augmented'], { axis: { int: 1 } });
  const [distance] = body.addNode('MatMul', [augmented!, transposed], ['step_distance']);
  const [updated] = body.addNode('Min', [nearest, distance!], ['step_nearest_out']);
  const [next] = body.addNode('ArgMax', [updated!], ['step_last_out'], { axis: { int: 1 }, keepdims: { int: 0 } });
  const [farthest] = body.addNode('Gather', [updated!, next!], ['step_farthest'], { axis: { int: 1 } });
  const scalar = reshape(body, farthest!, [], 'step_farthest_scalar');
  const [uncovered] = body.addNode('Greater', [scalar, tolerance], ['step_condition_out']);
  const [pick] = body.addNode('Identity', [last], ['step_pick']);
  body.exposeOutput(uncovered!, [], TensorProto_DataType.BOOL);
  body.exposeOutput(updated!, [1, 'n']);
  body.exposeOutput(next!, [1], TensorProto_DataType.INT64);
  body.exposeOutput(pick!, [1], TensorProto_DataType.INT64);
  return body.graph;
}
