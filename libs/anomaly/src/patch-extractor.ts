import { GraphEditor, type ModelProto, writeOnnxModel } from '@loupe/onnx-graph';
import ort from 'onnxruntime-node';
import { PATCH_OUTPUTS, patchRowsHead } from './anomaly-head';
import type { MapGeometry, PatchFeatureSpec } from './patch-features';
import { composeStationModel } from './station-model';

/** An image as the backbone takes it: NCHW planes of one image, [3 * height * width]. */
export type ImageTensor = Float32Array;

/**
 * Runs the backbone and the patch-feature graph on one image at a time and
 * returns its patch features as rows [cells, dimension]: the input of bank
 * building, and of the builder's own scoring.
 */
export class PatchExtractor {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly outputs: { rows: string; mean: string },
    readonly geometry: MapGeometry,
    readonly input: { name: string; height: number; width: number },
    readonly dimension: number,
    /** Opset of the backbone: heads and scorers built for it use the same kernels. */
    readonly opset: number,
  ) {}

  /** For a backbone: its layers through the patch-feature graph of `spec`. */
  static async create(backbone: ModelProto, spec: PatchFeatureSpec, input: { height: number; width: number }, threads = 0): Promise<PatchExtractor> {
    const head = patchRowsHead(backbone, spec, input);
    const { model, values } = composeStationModel(backbone, [{ name: 'patches', ...head }], input);
    const names = values.patches!;
    return PatchExtractor.fromModel(model, { rows: names[PATCH_OUTPUTS.rows]!, mean: names[PATCH_OUTPUTS.mean]! }, head.geometry, spec.dimension, threads);
  }

  /** For a model that already computes `rows` and `mean` (see addRowOutputs). */
  static async fromModel(model: ModelProto, outputs: { rows: string; mean: string }, geometry: MapGeometry, dimension: number, threads = 0): Promise<PatchExtractor> {
    const session = await ort.InferenceSession.create(writeOnnxModel(model), { intraOpNumThreads: threads, graphOptimizationLevel: 'all' });
    const image = model.graph!.input[0]!;
    const dims = image.type!.tensorType!.shape!.dim;
    const input = { name: image.name!, height: dims[2]!.dimValue!, width: dims[3]!.dimValue! };
    return new PatchExtractor(session, outputs, geometry, input, dimension, new GraphEditor(model).opsetVersion);
  }

  get cells(): number {
    return this.geometry.width * this.geometry.height;
  }

  /** The image's patch features, row-major [cells, dimension], and their mean [dimension]. */
  async extract(image: ImageTensor): Promise<{ rows: Float32Array; mean: Float32Array }> {
    const { name, height, width } = this.input;
    if (image.length !== 3 * height * width) throw new RangeError(`an image tensor for ${width}x${height} has ${3 * height * width} values, not ${image.length}`);
    const run = await this.session.run({ [name]: new ort.Tensor('float32', image, [1, 3, height, width]) });
    const rows = (run[this.outputs.rows]!.data as Float32Array).slice();
    const mean = (run[this.outputs.mean]!.data as Float32Array).slice();
    for (const tensor of Object.values(run)) tensor.dispose();
    return { rows, mean };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
