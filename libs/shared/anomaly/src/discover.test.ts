import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelPipeline } from '@loupe/inference';
import { type ModelProto, writeOnnxModel } from '@loupe/onnx-graph';
import ort from 'onnxruntime-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anomalyManifest } from './anomaly-manifest';
import { AnomalyScorer } from './anomaly-scorer';
import { type DiscoverResult, discoverAnomalyModel } from './discover';
import { bankSize } from './memory-bank';
import { PatchExtractor } from './patch-extractor';
import { BANK, deepPcb, defectBoxes, INPUT, SIZE, SPEC, squeezeNet, templates, testdataFile } from './testing/deeppcb-fixture';

const BANK_TEMPLATES = [0, 1, 2, 3, 4, 5];
const HELD_OUT_TEMPLATES = [6, 7, 8, 9];

describe('discoverAnomalyModel on DeepPCB templates of one board group', () => {
  let backbone: ModelProto;
  let result: DiscoverResult;
  let extractor: PatchExtractor;
  let scorer: AnomalyScorer;
  let exported: ort.InferenceSession;
  const images = new Map<string, Float32Array>();
  const progress: string[] = [];

  beforeAll(async () => {
    backbone = await squeezeNet();
    for (const file of [...templates([...BANK_TEMPLATES, ...HELD_OUT_TEMPLATES]), '20085010_test.jpg', '20085010_temp.jpg']) images.set(file, await deepPcb(file));
    result = await discoverAnomalyModel({
      backbone,
      size: SIZE,
      spec: SPEC,
      bank: BANK,
      bankImages: templates(BANK_TEMPLATES).map((file) => images.get(file)!),
      calibrationImages: templates(HELD_OUT_TEMPLATES).map((file) => images.get(file)!),
      falseAlarmRate: 0.2,
      onProgress: ({ stage, images: count }) => progress.push(`${stage} ${count}`),
    });
    extractor = await PatchExtractor.create(backbone, SPEC.features, SIZE, { threads: 1 });
    scorer = await AnomalyScorer.create(extractor, result.build.bank, SPEC.imageScore, { maxChunkBytes: SPEC.maxChunkBytes, threads: 1 });
    exported = await ort.InferenceSession.create(writeOnnxModel(result.model.model), { intraOpNumThreads: 1 });
  }, 180_000);

  afterAll(async () => {
    await Promise.all([extractor?.release(), scorer?.release(), exported?.release()]);
  });

  it('builds a bounded bank that covers the patches it was built from', () => {
    const { build } = result;
    expect(build.images).toBe(BANK_TEMPLATES.length);
    expect(progress).toEqual([...BANK_TEMPLATES.map((_, i) => `bank ${i + 1}`), ...HELD_OUT_TEMPLATES.map((_, i) => `calibration ${i + 1}`)]);
    expect(build.poolRows).toBeLessThanOrEqual(BANK.maxRows);
    expect(bankSize(build.bank)).toBeGreaterThan(100);
    expect(bankSize(build.bank)).toBeLessThanOrEqual(BANK.bankSize);
    expect(build.bank.coverageRadius).toBeGreaterThan(0);
  });

  it('sets the threshold above the held-out good units and states what that guarantees', () => {
    const { calibration, calibrationScores } = result;
    expect(calibrationScores).toHaveLength(HELD_OUT_TEMPLATES.length);
    expect(calibration.heldOut).toBe(HELD_OUT_TEMPLATES.length);
    expect(calibrationScores.every((score) => score < calibration.threshold)).toBe(true);
    // Four held-out images cannot promise 0.2 (that needs rank 4 of 4); the bound says so.
    expect(calibration.falseAlarmBound).toBeCloseTo(1 / 5, 10);
  });

  it('scores the defects of a tested image above the same places in its template', async () => {
    const [tested, template] = await Promise.all([scorer.score(images.get('20085010_test.jpg')!), scorer.score(images.get('20085010_temp.jpg')!)]);
    const { geometry } = extractor;
    const boxMax = (map: Float32Array, box: { x1: number; y1: number; x2: number; y2: number }) => {
      let best = 0;
      for (let row = 0; row < geometry.height; row++) {
        for (let column = 0; column < geometry.width; column++) {
          const [x, y] = [geometry.offset[0] + geometry.stride[0] * column, geometry.offset[1] + geometry.stride[1] * row];
          if (x >= box.x1 && x <= box.x2 && y >= box.y1 && y <= box.y2) best = Math.max(best, map[row * geometry.width + column]!);
        }
      }
      return best;
    };
    const boxes = await defectBoxes();
    const higher = boxes.filter((box) => boxMax(tested.map, box) > boxMax(template.map, box)).length;
    expect(higher).toBeGreaterThanOrEqual(boxes.length - 1);
    expect(tested.score).toBeGreaterThan(template.score);
  });

  it('exports one ONNX model whose map and score equal the builder’s own scoring within 1e-5', async () => {
    const { outputs } = result.model.metadata;
    for (const file of ['20085010_test.jpg', '20085010_temp.jpg', templates([7])[0]!]) {
      const image = images.get(file)!;
      const own = await scorer.score(image);
      const run = await exported.run({ data_0: new ort.Tensor('float32', image, [1, 3, SIZE.height, SIZE.width]) });
      const map = run[outputs.map]!;
      expect(map.dims).toEqual([1, extractor.geometry.height, extractor.geometry.width]);
      const values = map.data as Float32Array;
      const worst = values.reduce((largest, value, i) => Math.max(largest, Math.abs(value - own.map[i]!)), 0);
      expect(worst).toBeLessThan(1e-5);
      expect(Math.abs((run[outputs.score]!.data as Float32Array)[0]! - own.score)).toBeLessThan(1e-5);
    }
  });

  it('computes distances that exact arithmetic confirms', async () => {
    const { bank } = result.build;
    const { rows } = await extractor.extract(images.get('20085010_test.jpg')!);
    const distances = (await scorer.distances(rows)).map((distance) => distance * bank.scoreUnit);
    const { dimension } = bank;
    for (let patch = 0; patch < extractor.cells; patch += 97) {
      let nearest = Number.POSITIVE_INFINITY;
      for (let b = 0; b < bankSize(bank); b++) {
        let sum = 0;
        for (let i = 0; i < dimension; i++) sum += (rows[patch * dimension + i]! - bank.center[i]! - bank.vectors[b * dimension + i]!) ** 2;
        nearest = Math.min(nearest, sum);
      }
      expect(Math.abs(distances[patch]! - Math.sqrt(nearest))).toBeLessThan(1e-3 * Math.max(1, Math.sqrt(nearest)));
    }
  });

  it('never holds the whole patches x bank matrix: the bank is split into chunks no larger than the limit', () => {
    const { plan } = result.model;
    expect(plan.chunks).toBeGreaterThan(1);
    expect(plan.peakBytesPerImage).toBeLessThanOrEqual(SPEC.maxChunkBytes);
    const graph = result.model.model.graph!;
    const sizes = new Map(graph.initializer.map((tensor) => [tensor.name, tensor.dims]));
    const bankConvs = result.model.metadata.bankTensors.map((name) => graph.node.find((node) => node.opType === 'Conv' && node.input[1] === name)!);
    expect(bankConvs.every((node) => node !== undefined)).toBe(true);
    expect(Math.max(...bankConvs.map((node) => sizes.get(node.input[1])![0]!))).toBe(plan.chunkRows);
  });

  it('writes a manifest the agent’s pipeline serves: its score is the model’s, its map geometry the builder’s', async () => {
    const manifest = anomalyManifest(result.model.metadata, { name: 'discover-20085', version: '1', modelFile: 'model.onnx', input: INPUT, threshold: result.calibration.threshold });
    expect(manifest.output).toMatchObject({ task: 'anomaly', threshold: result.calibration.threshold, map: { width: 79, height: 79, stride: [8, 8], offset: [7, 7] } });
    const folder = await mkdtemp(join(tmpdir(), 'loupe-discover-'));
    try {
      await writeFile(join(folder, 'model.onnx'), writeOnnxModel(result.model.model));
      await writeFile(join(folder, 'manifest.json'), JSON.stringify(manifest));
      const settings = {
        providers: { chain: ['cpu' as const], tensorrt: { fp16: false, int8: false, engineCacheDir: folder, workspaceBytes: 1 << 30 }, cuda: { deviceId: 0 }, cpu: { intraOpThreads: 1, interOpThreads: 1, spinWait: false } },
        batch: { maxBatch: 1, maxDelayMs: 1, maxQueue: 4, concurrentBatches: 1 },
        maxImagePixels: 10_000_000,
        warmUpRuns: 0,
      };
      const pipeline = await ModelPipeline.open(join(folder, 'manifest.json'), settings, pino({ level: 'silent' }));
      try {
        const inspection = await pipeline.inspect(await readFile(testdataFile('20085010_test.jpg')));
        const own = await scorer.score(images.get('20085010_test.jpg')!);
        expect(Math.abs(inspection.prediction.anomaly!.score - own.score)).toBeLessThan(1e-5);
        expect(inspection.prediction.verdict).toBe(own.score >= result.calibration.threshold ? 'reject' : 'pass');
      } finally {
        await pipeline.close();
      }
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
