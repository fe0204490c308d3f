import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_PCB_AOI, SQUEEZENET_BACKBONE_DIR } from '../testing/model-fixtures';
import { backboneOf, parsePackagedModel } from './backbone-manifest';
import { parseModelManifest } from './model-manifest';

const json = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
const shippedBackbone = () => json(join(SQUEEZENET_BACKBONE_DIR, 'manifest.json'));

describe('backbone manifests', () => {
  it('reads the shipped backbone as a feature model with no classes', async () => {
    const model = parsePackagedModel(await shippedBackbone(), 'manifest.json');
    expect(model.task).toBe('features');
    expect(backboneOf(model)).toMatchObject({ input: { name: 'data_0', channelOrder: 'BGR' }, features: { output: 'fire9/concat_1', dimension: 512 } });
  });

  it('is refused by the manifest of models to serve, with the reason', async () => {
    const backbone = await shippedBackbone();
    expect(() => parseModelManifest(backbone, 'manifest.json')).toThrow(/task: "features" is a backbone/);
  });

  it('refuses golden samples, which would expect scores of labels a backbone does not have', async () => {
    const withGolden = { ...(await shippedBackbone()), goldenSamples: [{ image: 'a.png', expected: { cat: 1 }, tolerance: 0.1 }] };
    expect(() => parsePackagedModel(withGolden, 'manifest.json')).toThrow(/goldenSamples: a backbone has no labels/);
  });

  it('refuses a backbone without its feature output', async () => {
    const { features: _, ...withoutFeatures } = await shippedBackbone();
    expect(() => parsePackagedModel(withoutFeatures, 'manifest.json')).toThrow(/^ {2}features:/m);
  });

  it('lets a model to serve name a feature output too, which makes it a backbone', async () => {
    const demo = parsePackagedModel({ ...(await json(DEMO_PCB_AOI)), features: { output: 'pool10_1', dimension: 1000 } }, 'manifest.json');
    expect(demo.task).toBe('classification');
    expect(backboneOf(demo)?.features).toEqual({ output: 'pool10_1', dimension: 1000 });
    expect(backboneOf(parsePackagedModel(await json(DEMO_PCB_AOI), 'manifest.json'))).toBeUndefined();
  });
});
