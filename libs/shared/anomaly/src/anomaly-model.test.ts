import { InvalidOnnxModelError, type ModelProto, writeOnnxModel } from '@loupe/onnx-graph';
import fc from 'fast-check';
import ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { anomalyManifest } from './anomaly-manifest';
import { ANOMALY_METADATA_KEY, exportAnomalyModel, readAnomalyMetadata, readMemoryBank } from './anomaly-model';
import { SQUEEZENET_DISCOVER } from './defaults';
import type { MemoryBank } from './memory-bank';
import { SeededRandom } from './seeded-random';
import { deepPcb, INPUT, SIZE, SPEC, squeezeNet } from './testing/deeppcb-fixture';

const withMetadata = (model: ModelProto, value: string): ModelProto => ({ ...model, metadataProps: [{ key: ANOMALY_METADATA_KEY, value }] });

describe('the anomaly metadata of an exported model', () => {
  let model: ModelProto;
  let bank: MemoryBank;
  beforeAll(async () => {
    const dimension = SPEC.features.dimension;
    bank = { dimension, vectors: new SeededRandom(5).gaussians(700 * dimension, 3), center: new SeededRandom(6).gaussians(dimension, 1), coverageRadius: 12.5, scoreUnit: 11 };
    model = exportAnomalyModel(await squeezeNet(), SPEC, bank, SIZE).model;
  });

  it('gives back the bank the model was exported with', () => {
    const read = readMemoryBank(model);
    expect(read.vectors).toEqual(bank.vectors);
    expect(read.center).toEqual(bank.center);
    expect([read.dimension, read.coverageRadius, read.scoreUnit]).toEqual([bank.dimension, 12.5, 11]);
    expect(readAnomalyMetadata(model).bankTensors.length).toBeGreaterThan(1);
  });

  it('refuses metadata that is missing, not JSON, or names a constant the model lacks', () => {
    expect(() => readAnomalyMetadata({ ...model, metadataProps: [] })).toThrow(/no loupe\.anomaly metadata/);
    expect(() => readAnomalyMetadata(withMetadata(model, '{"head":'))).toThrow(/metadata is not JSON/);
    const metadata = readAnomalyMetadata(model);
    expect(() => readMemoryBank(withMetadata(model, JSON.stringify({ ...metadata, centerTensor: 'nowhere' })))).toThrow(/names nowhere, which is not a constant/);
    expect(() => readAnomalyMetadata(withMetadata(model, JSON.stringify({ ...metadata, scoreUnit: -1 })))).toThrow(/scoreUnit/);
  });

  it('answers any metadata text with the metadata or an InvalidOnnxModelError, never another failure', () => {
    const valid = JSON.stringify(readAnomalyMetadata(model));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.integer({ min: 0, max: valid.length }).map((cut) => valid.slice(0, cut))), (text) => {
        try {
          readAnomalyMetadata(withMetadata(model, text));
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidOnnxModelError);
        }
      }),
    );
  });
});

describe('the SqueezeNet defaults', () => {
  it('export a model with a 159 x 159 map of fire3 cells that the agent’s manifest accepts', async () => {
    const { spec } = SQUEEZENET_DISCOVER;
    const dimension = spec.features.dimension;
    const bank: MemoryBank = { dimension, vectors: new SeededRandom(8).gaussians(1024 * dimension, 100), center: new Float32Array(dimension), coverageRadius: 300, scoreUnit: 300 };
    const exported = exportAnomalyModel(await squeezeNet(), spec, bank, SIZE);
    expect(exported.metadata.geometry).toEqual({ width: 159, height: 159, stride: [4, 4], offset: [3, 3], receptiveField: [31, 31] });
    expect(exported.plan.peakBytesPerImage).toBeLessThanOrEqual(spec.maxChunkBytes);
    const manifest = anomalyManifest(exported.metadata, { name: 'defaults', version: '1', modelFile: 'model.onnx', input: INPUT, threshold: 1 });
    expect(manifest.output).toMatchObject({ map: { width: 159, height: 159 } });
    const session = await ort.InferenceSession.create(writeOnnxModel(exported.model), { intraOpNumThreads: 1 });
    const run = await session.run({ data_0: new ort.Tensor('float32', await deepPcb('20085010_test.jpg'), [1, 3, SIZE.height, SIZE.width]) });
    await session.release();
    expect(run[exported.metadata.outputs.map]!.dims).toEqual([1, 159, 159]);
    expect(Number.isFinite((run[exported.metadata.outputs.score]!.data as Float32Array)[0])).toBe(true);
  });
});
