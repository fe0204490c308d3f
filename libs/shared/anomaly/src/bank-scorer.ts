import { createModel, GraphEditor, writeOnnxModel } from '@loupe/onnx-graph';
import ort from 'onnxruntime-node';
import { inScoreUnits } from './anomaly-head';
import { reshape } from './graph-ops';
import { bankSize, type MemoryBank } from './memory-bank';
import { addNearestDistance, planChunks } from './nearest-distance';

export interface BankScorerOptions {
  /** The opset of the models the bank goes into, so the same kernels compute the same numbers. */
  opset: number;
  /** Patch rows scored per session call; bounds the memory of one call. */
  rowsPerRun: number;
  maxChunkBytes: number;
  /** Report distances in the bank's score units (as the model does) instead of raw. */
  inScoreUnits?: boolean;
  threads?: number;
}

/**
 * The distance from patch rows to their nearest bank row, computed by the
 * same graph construction the exported model uses (addNearestDistance), so
 * that what the builder measures (coverage, calibration) is what the model
 * will compute.
 */
export class BankScorer {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly bank: MemoryBank,
    private readonly rowsPerRun: number,
  ) {}

  static async create(bank: MemoryBank, options: BankScorerOptions): Promise<BankScorer> {
    const editor = new GraphEditor(createModel(options.opset, 'bank_scorer'));
    const rows = editor.addInput('rows', ['n', bank.dimension]);
    const [transposed] = editor.addNode('Transpose', [rows], ['columns'], { perm: { ints: [1, 0] } });
    // As an NCHW map one cell wide: [1, dimension, n, 1].
    const asMap = reshape(editor, transposed!, [1, bank.dimension, -1, 1], 'as_map');
    const plan = planChunks(bankSize(bank), options.rowsPerRun, options.maxChunkBytes);
    const { distance } = addNearestDistance(editor, asMap, bank, plan);
    const reported = options.inScoreUnits ? inScoreUnits(editor, distance, bank.scoreUnit) : distance;
    editor.exposeOutput(reshape(editor, reported, [-1], 'distances'), ['n']);
    const session = await ort.InferenceSession.create(writeOnnxModel(editor.model), { intraOpNumThreads: options.threads ?? 0, graphOptimizationLevel: 'all' });
    return new BankScorer(session, bank, options.rowsPerRun);
  }

  /** One distance per row of `rows` (row-major [n, dimension]). */
  async distances(rows: Float32Array): Promise<Float32Array> {
    const { dimension } = this.bank;
    const n = rows.length / dimension;
    if (!Number.isInteger(n)) throw new RangeError(`rows must be [n, ${dimension}]; got ${rows.length} values`);
    const result = new Float32Array(n);
    for (let start = 0; start < n; start += this.rowsPerRun) {
      const count = Math.min(this.rowsPerRun, n - start);
      const run = await this.session.run({ rows: new ort.Tensor('float32', rows.subarray(start * dimension, (start + count) * dimension), [count, dimension]) });
      result.set(run.distances!.data as Float32Array, start);
      run.distances!.dispose();
    }
    return result;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
