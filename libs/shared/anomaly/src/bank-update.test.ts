import { type ModelProto, writeOnnxModel } from '@loupe/onnx-graph';
import ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAnomalyMetadata, readMemoryBank } from './anomaly-model';
import { addToMemoryBank, type BankUpdateOptions } from './bank-update';
import { type DiscoverResult, discoverAnomalyModel } from './discover';
import { bankSize } from './memory-bank';
import { SeededRandom } from './seeded-random';
import { linearClassifierHead } from './station-model';
import { BANK, deepPcb, SIZE, SPEC, squeezeNet, templates } from './testing/deeppcb-fixture';

async function outputs(model: ModelProto, image: Float32Array): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(writeOnnxModel(model), { intraOpNumThreads: 1 });
  const run = await session.run({ data_0: new ort.Tensor('float32', image, [1, 3, SIZE.height, SIZE.width]) });
  await session.release();
  return Object.fromEntries(Object.entries(run).map(([name, tensor]) => [name, tensor.data as Float32Array]));
}

describe('addToMemoryBank: a confirmed false alarm joins the bank of the next version', () => {
  let discovered: DiscoverResult;
  let falseAlarm: Float32Array;
  let defective: Float32Array;
  let options: BankUpdateOptions;

  beforeAll(async () => {
    const backbone = await squeezeNet();
    const monitor = linearClassifierHead(backbone, { layer: 'fire9/concat_1', weights: new SeededRandom(3).gaussians(512 * 2, 0.01), bias: new Float32Array(2) });
    discovered = await discoverAnomalyModel({
      backbone,
      size: SIZE,
      spec: SPEC,
      bank: BANK,
      bankImages: await Promise.all(templates([0, 1, 2, 3, 4, 5]).map(deepPcb)),
      calibrationImages: await Promise.all(templates([6, 7, 8, 9]).map(deepPcb)),
      falseAlarmRate: 0.2,
      otherHeads: [{ name: 'monitor', ...monitor }],
    });
    // A good board of another design: nothing in a bank of group 20085 looks like its dense traces.
    falseAlarm = await deepPcb('92000000_temp.jpg');
    defective = await deepPcb('20085010_test.jpg');
    options = { threshold: discovered.calibration.threshold, maxBankSize: 8192, coresetDimension: BANK.coresetDimension, seed: BANK.seed, threads: 1 };
  }, 180_000);

  it('lowers the false alarm below the threshold in the next version, keeping the other heads and the output order', async () => {
    const { model, metadata } = discovered.model;
    const before = await outputs(model, falseAlarm);
    expect(before[metadata.outputs.score]![0]).toBeGreaterThanOrEqual(options.threshold);

    const update = await addToMemoryBank(model, [falseAlarm], options);
    expect(update.added).toBeGreaterThan(0);
    expect(update.thinned).toBe(false);
    expect(update.bankRows).toBe(bankSize(discovered.build.bank) + update.added);
    expect(bankSize(readMemoryBank(update.model))).toBe(update.bankRows);

    const after = await outputs(update.model, falseAlarm);
    expect(after[update.metadata.outputs.score]![0]).toBeLessThan(options.threshold);
    expect(update.model.graph!.output.map((output) => output.name)).toEqual(model.graph!.output.map((output) => output.name));
    expect(after['monitor/scores']).toEqual(before['monitor/scores']);
    expect(readAnomalyMetadata(update.model).features).toBe(metadata.features);
  });

  it('leaves the scores of the station’s own boards where they were', async () => {
    const update = await addToMemoryBank(discovered.model.model, [falseAlarm], options);
    const [before, after] = await Promise.all([outputs(discovered.model.model, defective), outputs(update.model, defective)]);
    const score = (run: Record<string, Float32Array>) => run[discovered.model.metadata.outputs.score]![0]!;
    expect(Math.abs(score(after) - score(before))).toBeLessThan(0.05 * score(before));
  });

  it('thins the old rows, never the new ones, when the bank would outgrow its cap', async () => {
    const size = bankSize(discovered.build.bank);
    const update = await addToMemoryBank(discovered.model.model, [falseAlarm], { ...options, maxBankSize: size + 20 });
    expect(update.thinned).toBe(true);
    expect(update.bankRows).toBeLessThanOrEqual(size + 20);
    const after = await outputs(update.model, falseAlarm);
    expect(after[update.metadata.outputs.score]![0]).toBeLessThan(options.threshold);
  });

  it('refuses a model without an anomaly head', async () => {
    const backbone = await squeezeNet();
    await expect(addToMemoryBank(backbone, [falseAlarm], options)).rejects.toThrow(/no loupe\.anomaly metadata/);
  });
});
