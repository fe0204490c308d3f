import { GraphEditor, type ModelProto, writeOnnxModel } from '@loupe/onnx-graph';
import ort from 'onnxruntime-node';
import { PATCH_OUTPUTS, type PatchOutputs, patchRowsHead, sampledCells } from './anomaly-head';
import type { MapGeometry, PatchFeatureSpec } from './patch-features';
import { composeStationModel } from './station-model';

/** An image as the backbone takes it: NCHW planes of one image, [3 * height * width]. */
export type ImageTensor = Float32Array;

export interface ExtractorOptions {
  /** Bank building reads every cellStride-th cell in each direction (see addRowOutputs). */
  cellStride?: number;
  threads?: number;
}

/**
 * Runs the backbone and the patch-feature graph on one image at a time and
 * returns its patch features as rows [cells, dimension]: the input of the
 * builder's own scoring, and (every cellStride-th cell) of bank building.
 */
export class PatchExtractor {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly outputs: PatchOutputs,
    readonly geometry: MapGeometry,
    /** Rows per image of `sample`. */
    readonly sampledCells: number,
    readonly input: { name: string; height: number; width: number },
    readonly dimension: number,
    /** Opset of the backbone: heads and scorers built for it use the same kernels. */
    readonly opset: number,
  ) {}

  /** For a backbone: its layers through the patch-feature graph of `spec`. */
  static async create(backbone: ModelProto, spec: PatchFeatureSpec, input: { height: number; width: number }, options: ExtractorOptions = {}): Promise<PatchExtractor> {
    const cellStride = options.cellStride ?? 1;
    const head = patchRowsHead(backbone, spec, input, cellStride);
    const { model, values } = composeStationModel(backbone, [{ name: 'patches', ...head }], input);
    const names = values.patches!;
    const outputs = { rows: names[PATCH_OUTPUTS.rows]!, sampled: names[PATCH_OUTPUTS.sampled]!, mean: names[PATCH_OUTPUTS.mean]! };
    return PatchExtractor.fromModel(model, outputs, head.geometry, spec.dimension, { ...options, cellStride });
  }

  /** For a model that already computes the rows (see addRowOutputs). */
  static async fromModel(model: ModelProto, outputs: PatchOutputs, geometry: MapGeometry, dimension: number, options: ExtractorOptions = {}): Promise<PatchExtractor> {
    const threads = options.threads ?? 0;
    const session = await ort.InferenceSession.create(writeOnnxModel(model), { intraOpNumThreads: threads, graphOptimizationLevel: 'all' });
    const image = model.graph!.input[0]!;
    const dims = image.type!.tensorType!.shape!.dim;
    const input = { name: image.name!, height: dims[2]!.dimValue!, width: dims[3]!.dimValue! };
    const cells = sampledCells(geometry, options.cellStride ?? 1);
    return new PatchExtractor(session, outputs, geometry, cells, input, dimension, new GraphEditor(model).opsetVersion);
  }

  /** Rows per image of `extract`: every cell of the map. */
  get cells(): number {
    return this.geometry.width * this.geometry.height;
  }

  /** The image's patch features, row-major [cells, dimension], and their mean [dimension]. */
  extract(image: ImageTensor): Promise<{ rows: Float32Array; mean: Float32Array }> {
    return this.run(image, this.outputs.rows);
  }

  /** The features of every cellStride-th cell in each direction, and the mean of all: what banks are built from. */
  sample(image: ImageTensor): Promise<{ rows: Float32Array; mean: Float32Array }> {
    return this.run(image, this.outputs.sampled);
  }

  private async run(image: ImageTensor, rowsOutput: string): Promise<{ rows: Float32Array; mean: Float32Array }> {
    const { name, height, width } = this.input;
    if (image.length !== 3 * height * width) throw new RangeError(`an image tensor for ${width}x${height} has ${3 * height * width} values, not ${image.length}`);
    const run = await this.session.run({ [name]: new ort.Tensor('float32', image, [1, 3, height, width]) }, [rowsOutput, this.outputs.mean]);
    const rows = (run[rowsOutput]!.data as Float32Array).slice();
    const mean = (run[this.outputs.mean]!.data as Float32Array).slice();
    for (const tensor of Object.values(run)) tensor.dispose();
    return { rows, mean };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
