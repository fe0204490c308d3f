import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import type { Logger } from 'pino';
import { readModelManifest, type ModelManifest } from '../manifest/model-manifest';
import { inputSize } from '../preprocess/image-decoder';
import { fromFloat16, toFloat16 } from '../preprocess/tensor-layout';
import { createSessionWithFallback, type ProviderName, type ProviderSettings } from './execution-providers';

/** The ONNX file does not fit its manifest, or does not load at all. */
export class ModelLoadError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'ModelLoadError';
  }
}

/**
 * One model in ONNX Runtime, checked against its manifest. run() takes
 * already-normalized image tensors and returns the raw values of the
 * manifest's output for each image.
 */
export class LoadedModel {
  private constructor(
    readonly manifest: ModelManifest,
    readonly directory: string,
    readonly sha256: string,
    readonly provider: ProviderName,
    /** 1 when the model has a fixed batch dimension of 1. */
    readonly maxBatch: number,
    private readonly session: ort.InferenceSession,
    private readonly outputName: string,
  ) {}

  static async load(manifestPath: string, providers: ProviderSettings, logger: Logger): Promise<LoadedModel> {
    const { manifest, directory, modelPath } = await readModelManifest(manifestPath);
    const log = logger.child({ model: manifest.name, version: manifest.version });
    const bytes = await readFile(modelPath).catch((error: unknown) => {
      throw new ModelLoadError(`model file ${manifest.modelFile} could not be read: ${(error as Error).message}`);
    });
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    let created: { session: ort.InferenceSession; provider: ProviderName };
    try {
      created = await createSessionWithFallback((options) => ort.InferenceSession.create(bytes, options), providers, sha256, log);
    } catch (error) {
      throw new ModelLoadError(`model ${manifest.name}@${manifest.version} does not load: ${(error as Error).message}`, { cause: error });
    }
    const outputName = outputNameOf(manifest);
    const maxBatch = checkAgainstManifest(created.session, manifest, outputName);
    log.info({ provider: created.provider, sha256, maxBatch }, 'model loaded');
    return new LoadedModel(manifest, directory, sha256, created.provider, maxBatch, created.session, outputName);
  }

  /** Values per image of a C*H*W input: its length is the tensor size of one image. */
  get imageTensorLength(): number {
    const { width, height } = inputSize(this.manifest.input);
    return 3 * width * height;
  }

  async run(images: Float32Array[]): Promise<Float32Array[]> {
    const { input } = this.manifest;
    const { width, height } = inputSize(input);
    const batch = new Float32Array(images.length * this.imageTensorLength);
    images.forEach((image, index) => batch.set(image, index * this.imageTensorLength));
    const dims = input.layout === 'NCHW' ? [images.length, 3, height, width] : [images.length, height, width, 3];
    const tensor = input.dtype === 'float16' ? new ort.Tensor('float16', toFloat16(batch), dims) : new ort.Tensor('float32', batch, dims);
    const results = await this.session.run({ [input.name]: tensor }, [this.outputName]);
    const output = results[this.outputName]!;
    const values = output.type === 'float16' ? fromFloat16(output.data as Uint16Array) : Float32Array.from(output.data as Float32Array);
    const perImage = values.length / images.length;
    return images.map((_, index) => values.subarray(index * perImage, (index + 1) * perImage));
  }

  /** Runs `runs` batches of zeros, so the first real request pays no warm-up (or, on TensorRT, the engine build). */
  async warmUp(runs: number, logger: Logger): Promise<void> {
    for (let run = 1; run <= runs; run++) {
      const started = performance.now();
      await this.run([new Float32Array(this.imageTensorLength)]);
      logger.info({ run, of: runs, ms: Math.round(performance.now() - started) }, 'warm-up run');
    }
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

function outputNameOf(manifest: ModelManifest): string {
  const { output } = manifest;
  switch (output.task) {
    case 'classification':
      return output.scores;
    case 'anomaly':
      return output.score;
    case 'detection':
      return output.output;
  }
}

/** Compares the session's input and outputs with the manifest; returns the largest batch the model takes. */
function checkAgainstManifest(session: ort.InferenceSession, manifest: ModelManifest, outputName: string): number {
  const { input } = manifest;
  const problems: string[] = [];
  const metadata = session.inputMetadata.find((entry) => entry.name === input.name);
  if (!metadata) {
    problems.push(`input "${input.name}" not in the model (it has ${session.inputNames.join(', ')})`);
  } else if (metadata.isTensor) {
    const expectedType = input.dtype;
    if (metadata.type !== expectedType) problems.push(`input "${input.name}" is ${metadata.type}, the manifest says ${expectedType}`);
    const [modelBatch, ...modelRest] = metadata.shape;
    const [, ...manifestRest] = input.shape;
    if (modelRest.some((size, index) => typeof size === 'number' && size !== manifestRest[index])) {
      problems.push(`input "${input.name}" has shape [${metadata.shape.join(', ')}], the manifest says [${input.shape.join(', ')}]`);
    }
    const dynamic = typeof modelBatch !== 'number' || modelBatch < 1;
    if (input.shape[0] === -1 && !dynamic) problems.push(`input "${input.name}" has a fixed batch of ${modelBatch}, the manifest says dynamic (-1)`);
  }
  const { output } = manifest;
  // Serving the first of several heads would drop the others' votes from every verdict.
  if (manifest.heads.length > 0) {
    problems.push(`the manifest lists further heads (${manifest.heads.map((head) => head.name).join(', ')}); this agent serves models of one head until it combines their verdicts`);
  }
  const declared = output.task === 'anomaly' && output.map ? [outputName, output.map.output] : [outputName];
  for (const name of declared) {
    if (!session.outputNames.includes(name)) problems.push(`output "${name}" not in the model (it has ${session.outputNames.join(', ')})`);
  }
  if (problems.length > 0) throw new ModelLoadError(`model ${manifest.name}@${manifest.version} does not match its manifest: ${problems.join('; ')}`);
  return input.shape[0] === -1 ? Number.POSITIVE_INFINITY : input.shape[0];
}
