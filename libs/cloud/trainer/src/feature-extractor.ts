import {
  type BackboneSpec,
  decodeImage,
  DEFAULT_MAX_IMAGE_PIXELS,
  type FeatureOutput,
  fromFloat16,
  inputSize,
  type PixelRegion,
  toFloat16,
  writeImageTensor,
} from '@loupe/inference';
import { GraphEditor, type ModelProto, prepareBackbone, readOnnxModel, writeOnnxModel } from '@loupe/onnx-graph';
import ort from 'onnxruntime-node';

/** A box in pixels of the image, as labels give them. */
export interface ImageBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One image to describe: the whole of it, or a crop around a box. */
export interface FeatureInput {
  /** Encoded bytes (JPEG, PNG, BMP, TIFF, WebP). */
  image: Buffer;
  box?: ImageBox;
}

export interface FeatureExtractorOptions {
  /** A crop is this many times its box, about the box's centre, clipped to the image (1.1: crops just around the box train far better than wide windows). */
  cropScale?: number;
  /** Images per onnxruntime run. */
  batchSize?: number;
  /** onnxruntime's threads; they sleep when idle, as the cloud shares its machine. */
  threads?: number;
  maxImagePixels?: number;
}

/**
 * The backbone's feature map pooled by global average into one vector per
 * image, inside the graph: the backbone as prepared for any input size, then
 * GlobalAveragePool and Flatten on its feature output, the model's only output.
 */
export function pooledFeatureModel(backbone: ModelProto, features: FeatureOutput): { model: ModelProto; output: string } {
  const model = prepareBackbone(backbone, { outputs: [features.output] });
  const editor = new GraphEditor(model);
  const [pooled] = editor.addNode('GlobalAveragePool', [features.output], ['pooled_features']);
  const [flat] = editor.addNode('Flatten', [pooled!], ['features'], { axis: { int: 1 } });
  editor.keepOutputs([flat!]);
  editor.prune();
  return { model, output: flat! };
}

/** The crop around a box: `scale` times its size about its centre (decodeImage clips it to the image). */
export function cropAround(box: ImageBox, scale: number): PixelRegion {
  const width = box.width * scale;
  const height = box.height * scale;
  return { left: box.x + box.width / 2 - width / 2, top: box.y + box.height / 2 - height / 2, width, height };
}

/**
 * Pooled feature vectors of images or crops from a frozen backbone (any
 * model whose manifest names a feature output), preprocessed exactly as the
 * agent preprocesses that model's input.
 */
export class FeatureExtractor {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly spec: BackboneSpec,
    private readonly output: string,
    private readonly options: Required<FeatureExtractorOptions>,
  ) {}

  static async create(backbone: Uint8Array, spec: BackboneSpec, options: FeatureExtractorOptions = {}): Promise<FeatureExtractor> {
    const { model, output } = pooledFeatureModel(readOnnxModel(backbone), spec.features);
    const threads = options.threads ?? 1;
    const session = await ort.InferenceSession.create(writeOnnxModel(model), {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    });
    const settings = { cropScale: options.cropScale ?? 1.1, batchSize: options.batchSize ?? 16, threads, maxImagePixels: options.maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS };
    return new FeatureExtractor(session, spec, output, settings);
  }

  /** D, the length of every vector `extract` returns. */
  get dimension(): number {
    return this.spec.features.dimension;
  }

  /** One vector of `dimension` per input, in order; batchSize inputs per run. An image that does not decode rejects the whole call. */
  async extract(inputs: readonly FeatureInput[]): Promise<Float32Array[]> {
    const vectors: Float32Array[] = [];
    for (let start = 0; start < inputs.length; start += this.options.batchSize) {
      vectors.push(...(await this.extractBatch(inputs.slice(start, start + this.options.batchSize))));
    }
    return vectors;
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  private async extractBatch(inputs: readonly FeatureInput[]): Promise<Float32Array[]> {
    const { input } = this.spec;
    const { width, height } = inputSize(input);
    const perImage = 3 * width * height;
    const batch = new Float32Array(inputs.length * perImage);
    const decoded = await Promise.all(
      inputs.map(({ image, box }) => decodeImage(image, input, this.options.maxImagePixels, box ? cropAround(box, this.options.cropScale) : undefined)),
    );
    decoded.forEach(({ pixels }, index) => writeImageTensor(pixels, input, batch, index));
    const dims = input.layout === 'NCHW' ? [inputs.length, 3, height, width] : [inputs.length, height, width, 3];
    const tensor = input.dtype === 'float16' ? new ort.Tensor('float16', toFloat16(batch), dims) : new ort.Tensor('float32', batch, dims);
    const result = (await this.session.run({ [input.name]: tensor }, [this.output]))[this.output]!;
    const values = result.type === 'float16' ? fromFloat16(result.data as Uint16Array) : (result.data as Float32Array);
    const { dimension } = this;
    if (values.length !== inputs.length * dimension) {
      throw new RangeError(`the backbone's ${this.spec.features.output} pools to ${values.length / inputs.length} features per image; its manifest says ${dimension}`);
    }
    // Copies, so that no vector keeps the whole batch's buffer alive.
    return inputs.map((_, index) => values.slice(index * dimension, (index + 1) * dimension));
  }
}
