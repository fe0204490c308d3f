import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ModelProto, readOnnxModel } from '@loupe/onnx-graph';
import type { AnomalyHeadSpec } from '../anomaly-head';
import type { BankOptions } from '../bank-builder';
import { imageTensor, type InputSpec } from '../image-tensor';

const testdata = join(import.meta.dirname, '..', '..', '..', '..', '..', 'tools', 'testdata');

export const SIZE = { height: 640, width: 640 };

/** SqueezeNet's input: BGR, raw 0..255, at the DeepPCB images' native size. */
export const INPUT: InputSpec = {
  name: 'data_0',
  shape: [-1, 3, SIZE.height, SIZE.width],
  layout: 'NCHW',
  dtype: 'float32',
  channelOrder: 'BGR',
  resize: { mode: 'stretch', kernel: 'linear' },
  normalize: { scale: 1, mean: [0, 0, 0], std: [1, 1, 1] },
};

export const SPEC: AnomalyHeadSpec = {
  features: { layers: ['fire5/concat_1', 'fire7/concat_1'], aggregation: 3, dimension: 64, seed: 19 },
  imageScore: { border: 2, blur: 3, topK: 10 },
  // Small, so that the tests see the bank split into several chunks.
  maxChunkBytes: 2 * 1024 * 1024,
};

export const BANK: BankOptions = { bankSize: 512, patchesPerImage: 512, maxRows: 8192, coresetDimension: 16, seed: 19, maxChunkBytes: SPEC.maxChunkBytes, threads: 1 };

export async function squeezeNet(): Promise<ModelProto> {
  return readOnnxModel(await readFile(join(testdata, 'models', 'squeezenet1.0', 'SqueezeNet_fp32.from-fp16.onnx')));
}

export const testdataFile = (file: string) => join(testdata, 'deeppcb', file);

/** A DeepPCB image of tools/testdata/deeppcb as the model's input tensor. */
export async function deepPcb(file: string): Promise<Float32Array> {
  return imageTensor(await readFile(testdataFile(file)), INPUT);
}

export const templates = (ids: readonly number[]) => ids.map((id) => `2008500${id}_temp.jpg`);

/** The defect boxes of the tested image 20085010, in image pixels. */
export async function defectBoxes(): Promise<{ x1: number; y1: number; x2: number; y2: number }[]> {
  const text = await readFile(join(testdata, 'deeppcb', '20085010.txt'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [x1, y1, x2, y2] = line.trim().split(/\s+/).map(Number) as [number, number, number, number];
      return { x1, y1, x2, y2 };
    });
}
