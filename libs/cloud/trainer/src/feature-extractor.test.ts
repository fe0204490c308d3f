import { readFile } from 'node:fs/promises';
import { readOnnxModel, writeOnnxModel } from '@loupe/onnx-graph';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BACKBONE_MODEL } from './default-backbone';
import { cropAround, FeatureExtractor } from './feature-extractor';
import { demoImages, shippedBackbone, SQUEEZENET_ORIGINAL } from './testing/trainer-fixtures';

const maxDifference = (a: Float32Array, b: Float32Array) => a.reduce((largest, value, i) => Math.max(largest, Math.abs(value - b[i]!)), 0);

describe('FeatureExtractor on the shipped SqueezeNet backbone', () => {
  let extractor: FeatureExtractor;
  let images: { bytes: Buffer }[];

  beforeAll(async () => {
    const backbone = await shippedBackbone();
    extractor = await FeatureExtractor.create(backbone.bytes, backbone.manifest, { batchSize: 2, threads: 2 });
    images = await demoImages(3);
  });
  afterAll(() => extractor?.release());

  it('is the default backbone by name', async () => {
    expect((await shippedBackbone()).manifest.name).toBe(DEFAULT_BACKBONE_MODEL);
  });

  it('gives one pooled vector of 512 per image, batched as one at a time', async () => {
    const together = await extractor.extract(images.map(({ bytes }) => ({ image: bytes })));
    expect(together.map((vector) => vector.length)).toEqual([512, 512, 512]);
    expect(together.every((vector) => vector.every(Number.isFinite) && vector.some((value) => value > 0))).toBe(true);
    for (const [index, { bytes }] of images.entries()) {
      const [alone] = await extractor.extract([{ image: bytes }]);
      expect(maxDifference(alone!, together[index]!)).toBeLessThan(1e-4);
    }
    expect(maxDifference(together[0]!, together[1]!)).toBeGreaterThan(1e-2);
  });

  it('describes a crop around a box as the image cut out first, the box grown by cropScale and clipped to the image', async () => {
    const box = { x: 600, y: 100, width: 50, height: 40 };
    const region = cropAround(box, 1.1);
    for (const [key, value] of Object.entries({ left: 597.5, top: 98, width: 55, height: 44 })) expect(region[key as keyof typeof region]).toBeCloseTo(value, 9);
    // 597.5..652.5 clips to the 640-pixel image: columns 597 to 639.
    const cut = await sharp(images[0]!.bytes).extract({ left: 597, top: 98, width: 43, height: 44 }).png().toBuffer();
    const [ofBox, ofCut] = await extractor.extract([{ image: images[0]!.bytes, box }, { image: cut }]);
    expect(maxDifference(ofBox!, ofCut!)).toBeLessThan(1e-5);
  });

  it('gives the features of the upstream file it was cut from: the shipped file is that network', async () => {
    const upstream = readOnnxModel(await readFile(SQUEEZENET_ORIGINAL));
    const { manifest } = await shippedBackbone();
    const fromUpstream = await FeatureExtractor.create(writeOnnxModel(upstream), manifest, { batchSize: 2 });
    const [a, b] = await Promise.all([fromUpstream.extract([{ image: images[1]!.bytes }]), extractor.extract([{ image: images[1]!.bytes }])]);
    await fromUpstream.release();
    expect(maxDifference(a[0]!, b[0]!)).toBeLessThan(1e-5);
  });

  it('refuses a manifest whose dimension is not the feature map’s', async () => {
    const { bytes, manifest } = await shippedBackbone();
    const wrong = await FeatureExtractor.create(bytes, { ...manifest, features: { ...manifest.features, dimension: 256 } });
    await expect(wrong.extract([{ image: images[0]!.bytes }])).rejects.toThrow(/pools to 512 features per image; its manifest says 256/);
    await wrong.release();
  });
});
