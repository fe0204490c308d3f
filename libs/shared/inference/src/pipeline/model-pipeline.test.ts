import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelLoadError } from '../runtime/loaded-model';
import {
  DEMO_PCB_AOI,
  DEMO_PCB_AOI_DIR,
  TEST_MODELS,
  indexedLabels,
  modelFolder,
  removeModelFolders,
  silentLogger,
  squeezenetManifest,
  testSettings,
} from '../testing/model-fixtures';
import { QueueFullError } from '../batching/micro-batcher';
import { GoldenSampleMismatchError, ModelPipeline } from './model-pipeline';

const PCB = DEMO_PCB_AOI_DIR;
const SQUEEZENET = join(TEST_MODELS, 'squeezenet1.0');
const YOLOX = join(TEST_MODELS, 'yolox-nano');

afterAll(removeModelFolders);

describe('pcb-aoi, the defect classifier', () => {
  let pipeline: ModelPipeline;
  beforeAll(async () => {
    pipeline = await ModelPipeline.open(DEMO_PCB_AOI, testSettings(), silentLogger);
  });
  afterAll(() => pipeline?.close());

  it.each([
    ['Defective_02', 'reject', 'Defective'],
    ['Defective_25', 'reject', 'Defective'],
    ['Normal_33', 'pass', 'Normal'],
    ['Normal_35', 'pass', 'Normal'],
  ])('judges %s as %s', async (image, verdict, topLabel) => {
    const result = await pipeline.inspect(await readFile(join(PCB, 'sample-images', `${image}.png`)));
    expect(result.prediction.verdict).toBe(verdict);
    expect(result.prediction.scores[0]?.label).toBe(topLabel);
    expect(result.prediction.scores[0]?.score).toBeGreaterThan(0.99);
    expect(result.model).toMatchObject({ name: 'pcb-aoi', version: '1' });
    expect(result.provider).toBe('cpu');
  });

  it('batches concurrent requests and answers each as it would alone', async () => {
    const images = await Promise.all(['Defective_02', 'Normal_33'].map((name) => readFile(join(PCB, 'sample-images', `${name}.png`))));
    const alone = await Promise.all(images.map((image) => pipeline.inspect(image)));
    // Enough requests that some always wait for a running batch, however the
    // machine schedules their decoding.
    const together = await Promise.all(Array.from({ length: 32 }, (_, i) => pipeline.inspect(images[i % 2]!)));
    expect(Math.max(...together.map((result) => result.batchSize))).toBeGreaterThan(1);
    together.forEach((result, i) => {
      const single = alone[i % 2]!;
      expect(result.prediction.verdict).toBe(single.prediction.verdict);
      expect(result.prediction.scores[0]!.score).toBeCloseTo(single.prediction.scores[0]!.score, 4);
    });
  });

  it('refuses requests beyond its queue bound instead of letting latency grow', async () => {
    const small = await ModelPipeline.open(
      DEMO_PCB_AOI,
      testSettings({ batch: { maxBatch: 1, maxDelayMs: 1, maxQueue: 1, concurrentBatches: 1 }, warmUpRuns: 0 }),
      silentLogger,
    );
    try {
      const image = await readFile(join(PCB, 'sample-images', 'Normal_33.png'));
      const results = await Promise.allSettled(Array.from({ length: 32 }, () => small.inspect(image)));
      const refused = results.filter((result) => result.status === 'rejected');
      expect(refused.length).toBeGreaterThan(0);
      for (const result of refused) expect((result).reason).toBeInstanceOf(QueueFullError);
      expect(results.some((result) => result.status === 'fulfilled')).toBe(true);
    } finally {
      await small.close();
    }
  });

  it('reports how long each stage took', async () => {
    const { timings } = await pipeline.inspect(await readFile(join(PCB, 'sample-images', 'Normal_35.png')));
    for (const stage of ['decodeMs', 'preprocessMs', 'queueMs', 'inferenceMs', 'postprocessMs'] as const) {
      expect(timings[stage]).toBeGreaterThanOrEqual(0);
    }
    expect(timings.totalMs).toBeGreaterThanOrEqual(timings.decodeMs + timings.inferenceMs);
  });
});

describe('SqueezeNet, float32 and float16 inputs', () => {
  it.each(['float32', 'float16'] as const)('finds the tabby and the tench with %s', async (dtype) => {
    const labels = await indexedLabels(join(SQUEEZENET, 'Labels.txt'));
    const modelFile = join(SQUEEZENET, dtype === 'float16' ? 'SqueezeNet_fp16.onnx' : 'SqueezeNet_fp32.from-fp16.onnx');
    const pipeline = await ModelPipeline.open(await modelFolder(modelFile, squeezenetManifest(dtype, labels)), testSettings(), silentLogger);
    try {
      const kitten = await pipeline.inspect(await readFile(join(SQUEEZENET, 'kitten_224.png')));
      const fish = await pipeline.inspect(await readFile(join(SQUEEZENET, 'fish.png')));
      expect(kitten.prediction.scores[0]).toMatchObject({ label: 'tabby, tabby cat' });
      expect(kitten.prediction.scores[0]!.score).toBeCloseTo(0.93, 1);
      expect(fish.prediction.scores[0]).toMatchObject({ label: 'tench, Tinca tinca' });
      expect(fish.prediction.scores[0]!.score).toBeCloseTo(0.74, 1);
    } finally {
      await pipeline.close();
    }
  });
});

describe('YOLOX-Nano, the detector', () => {
  it('finds the animal in the kitten picture, in original-image pixels', async () => {
    const labels = (await readFile(join(YOLOX, 'coco_classes.txt'), 'utf8')).split('\n').filter(Boolean);
    const manifest = {
      name: 'yolox-nano',
      version: '1',
      task: 'detection',
      input: {
        name: 'images',
        shape: [1, 3, 416, 416],
        layout: 'NCHW',
        dtype: 'float32',
        channelOrder: 'BGR',
        resize: { mode: 'letterbox', padValue: 114, anchor: 'top-left' },
      },
      output: { task: 'detection', output: 'output', format: 'yolox', strides: [8, 16, 32], scoreThreshold: 0.3, iouThreshold: 0.45 },
      labels,
    };
    const pipeline = await ModelPipeline.open(await modelFolder(join(YOLOX, 'yolox_nano.onnx'), manifest), testSettings(), silentLogger);
    try {
      const { prediction } = await pipeline.inspect(await readFile(join(SQUEEZENET, 'kitten_224.png')));
      const top = prediction.boxes[0]!;
      expect(top.label).toBe('dog');
      expect(top.score).toBeCloseTo(0.71, 1);
      // The animal fills most of the 224x224 picture.
      expect(top.width * top.height).toBeGreaterThan(0.3 * 224 * 224);
      expect(top.x + top.width).toBeLessThanOrEqual(224);
      expect(top.y + top.height).toBeLessThanOrEqual(224);
    } finally {
      await pipeline.close();
    }
  });
});

describe('models that must be refused', () => {
  const pcbManifest = async () => JSON.parse(await readFile(DEMO_PCB_AOI, 'utf8')) as Record<string, unknown> & { input: Record<string, unknown> };

  it('refuses a model file current ONNX Runtime cannot load, with the reason', async () => {
    const manifest = await pcbManifest();
    const path = await modelFolder(join(TEST_MODELS, 'pcb-aoi-original', 'pcb-aoi.original-opset1.onnx'), { ...manifest, goldenSamples: [] });
    await expect(ModelPipeline.open(path, testSettings(), silentLogger)).rejects.toThrow(ModelLoadError);
    await expect(ModelPipeline.open(path, testSettings(), silentLogger)).rejects.toThrow(/does not load: .*cpu: /);
  });

  it('refuses an anomaly manifest whose score map is not an output of the model', async () => {
    const manifest = await pcbManifest();
    const scores = (manifest.output as { scores: string }).scores;
    const map = { output: 'anomaly/map', width: 27, height: 27, stride: [8, 8], offset: [4, 4], receptiveField: [16, 16] };
    const path = await modelFolder(join(PCB, 'pcb-aoi.opset11.onnx'), {
      ...manifest,
      task: 'anomaly',
      output: { task: 'anomaly', score: scores, threshold: 0.5, map },
      labels: ['anomaly'],
      decision: { rejectLabels: [] },
      goldenSamples: [],
    });
    await expect(ModelPipeline.open(path, testSettings(), silentLogger)).rejects.toThrow(/output "anomaly\/map" not in the model/);
  });

  it('refuses a model of several heads rather than serve the first alone', async () => {
    const manifest = await pcbManifest();
    const monitor = { name: 'monitor', output: { task: 'classification', scores: 'monitor/scores' }, labels: ['ok', 'open'], decision: { rejectLabels: ['open'] } };
    const path = await modelFolder(join(PCB, 'pcb-aoi.opset11.onnx'), { ...manifest, heads: [monitor], goldenSamples: [] });
    await expect(ModelPipeline.open(path, testSettings(), silentLogger)).rejects.toThrow(/lists further heads \(monitor\); this agent serves models of one head/);
  });

  it('refuses a manifest whose input shape does not match the model', async () => {
    const manifest = await pcbManifest();
    const path = await modelFolder(join(PCB, 'pcb-aoi.opset11.onnx'), {
      ...manifest,
      input: { ...manifest.input, shape: [-1, 3, 224, 224], resize: { mode: 'stretch' } },
      goldenSamples: [],
    });
    await expect(ModelPipeline.open(path, testSettings(), silentLogger)).rejects.toThrow(/has shape \[N, 3, 227, 227\], the manifest says \[-1, 3, 224, 224\]/);
  });

  it('refuses a model whose golden samples come out differently', async () => {
    const manifest = await pcbManifest();
    const path = await modelFolder(
      join(PCB, 'pcb-aoi.opset11.onnx'),
      {
        ...manifest,
        goldenSamples: [{ image: 'Normal_33.png', expected: { Normal: 0.5 }, tolerance: 0.01 }],
      },
      [join(PCB, 'sample-images', 'Normal_33.png')],
    );
    await expect(ModelPipeline.open(path, testSettings(), silentLogger)).rejects.toThrow(GoldenSampleMismatchError);
  });

  it('falls back along the provider chain to the CPU, which it reports', async () => {
    const pipeline = await ModelPipeline.open(
      DEMO_PCB_AOI,
      testSettings({ providers: { ...testSettings().providers, chain: ['tensorrt', 'cuda', 'cpu'] } }),
      silentLogger,
    );
    try {
      expect(pipeline.model.provider).toBe('cpu');
    } finally {
      await pipeline.close();
    }
  });
});
