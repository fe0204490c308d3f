/**
 * One board group of bench:discover: banks from N good templates, the
 * threshold from other templates, and the scores of held-out pairs (tested
 * image and its template) under each bank.
 */
import { readFile } from 'node:fs/promises';
import {
  type AnomalyHeadSpec,
  AnomalyScorer,
  type BankOptions,
  bankSize,
  buildMemoryBank,
  calibrateThreshold,
  type ImageScoreSpec,
  imageScore,
  imageTensor,
  type InputSpec,
  type MapGeometry,
  type MemoryBank,
  type PatchExtractor,
} from '@loupe/anomaly';
import type { DeepPcbPair, DefectBox } from './deeppcb';

export interface GroupPlan {
  bankSizes: number[];
  calibrationPairs: number;
  evalPairs: number;
  falseAlarmRate: number;
  seed: number;
  spec: AnomalyHeadSpec;
  bank: BankOptions;
  input: InputSpec;
  /** Image-score rules compared on the same maps. */
  rules: Record<string, ImageScoreSpec>;
}

export interface GroupResult {
  group: string;
  buildSeconds: Map<number, number>;
  bankRows: Map<number, number>;
  /** Per N: each defect box's score in its tested image, and at the same place in its template. */
  boxPositives: Map<number, number[]>;
  boxNegatives: Map<number, number[]>;
  /** Per N and rule: image scores of tested images and of held-out templates. */
  imagePositives: Map<number, Record<string, number[]>>;
  imageNegatives: Map<number, Record<string, number[]>>;
  /** N = 10: the threshold, and the held-out templates at or above it (false alarms). */
  bank10: MemoryBank;
  threshold: number;
  falseAlarms: string[];
  detected: number;
}

const progress = (message: string) => process.stderr.write(`${message}\n`);
const seconds = (since: number) => (performance.now() - since) / 1000;

/** A fixed shuffle (LCG), so every run and every reader gets the same split. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const result = [...items];
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [result[i], result[j]] = [result[j]!, result[i]!];
  }
  return result;
}

/** The first 25 pairs' templates build banks, the next ones calibrate, the rest are scored. */
export function splitGroup(pairs: readonly DeepPcbPair[], plan: Pick<GroupPlan, 'seed' | 'calibrationPairs' | 'evalPairs'>) {
  const order = shuffled(pairs, plan.seed);
  const calibrationEnd = 25 + plan.calibrationPairs;
  return { bank: order.slice(0, 25), calibration: order.slice(25, calibrationEnd), evaluation: order.slice(calibrationEnd, calibrationEnd + plan.evalPairs) };
}

async function* tensors(paths: readonly string[], input: InputSpec): AsyncGenerator<Float32Array> {
  for (const path of paths) yield imageTensor(await readFile(path), input);
}

/** The highest cell whose centre lies in the box; the cell nearest its centre when none does. */
export function boxScore(map: Float32Array, geometry: MapGeometry, box: DefectBox): number {
  const cellsIn = (low: number, high: number, axis: 0 | 1, count: number) => {
    const first = Math.max(0, Math.ceil((low - geometry.offset[axis]) / geometry.stride[axis]));
    const last = Math.min(count - 1, Math.floor((high - geometry.offset[axis]) / geometry.stride[axis]));
    if (first <= last) return [first, last] as const;
    const centre = Math.min(count - 1, Math.max(0, Math.round(((low + high) / 2 - geometry.offset[axis]) / geometry.stride[axis])));
    return [centre, centre] as const;
  };
  const [x0, x1] = cellsIn(box.x1, box.x2, 0, geometry.width);
  const [y0, y1] = cellsIn(box.y1, box.y2, 1, geometry.height);
  let best = Number.NEGATIVE_INFINITY;
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) best = Math.max(best, map[y * geometry.width + x]!);
  return best;
}

export async function benchGroup(group: string, pairs: DeepPcbPair[], extractor: PatchExtractor, plan: GroupPlan): Promise<GroupResult> {
  const split = splitGroup(pairs, plan);
  const result: GroupResult = {
    group,
    buildSeconds: new Map(),
    bankRows: new Map(),
    boxPositives: new Map(),
    boxNegatives: new Map(),
    imagePositives: new Map(),
    imageNegatives: new Map(),
    bank10: undefined as unknown as MemoryBank,
    threshold: Number.NaN,
    falseAlarms: [],
    detected: 0,
  };
  const scorers = new Map<number, AnomalyScorer>();
  for (const n of plan.bankSizes) {
    const started = performance.now();
    const build = await buildMemoryBank(extractor, tensors(split.bank.slice(0, n).map((pair) => pair.templatePath), plan.input), plan.bank);
    result.buildSeconds.set(n, seconds(started));
    result.bankRows.set(n, bankSize(build.bank));
    if (n === 10) result.bank10 = build.bank;
    progress(
      `  ${group} N=${n}: bank of ${bankSize(build.bank)} rows from a pool of ${build.poolRows} in ${seconds(started).toFixed(2)} s ` +
        `(features ${build.seconds.extract.toFixed(2)}, coreset ${build.seconds.coreset.toFixed(2)}, coverage ${build.seconds.coverage.toFixed(2)})`,
    );
    scorers.set(n, await AnomalyScorer.create(extractor, build.bank, plan.spec.imageScore, plan.bank));
    result.boxPositives.set(n, []);
    result.boxNegatives.set(n, []);
    result.imagePositives.set(n, Object.fromEntries(Object.keys(plan.rules).map((rule) => [rule, []])));
    result.imageNegatives.set(n, Object.fromEntries(Object.keys(plan.rules).map((rule) => [rule, []])));
  }
  const calibrationScores: number[] = [];
  for await (const image of tensors(split.calibration.map((pair) => pair.templatePath), plan.input)) calibrationScores.push((await scorers.get(10)!.score(image)).score);
  result.threshold = calibrateThreshold(calibrationScores, plan.falseAlarmRate).threshold;
  for (const pair of split.evaluation) {
    const [tested, template] = await Promise.all([pair.testPath, pair.templatePath].map(async (path) => (await extractor.extract(await imageTensor(await readFile(path), plan.input))).rows));
    for (const [n, scorer] of scorers) {
      const [positive, negative] = [await scorer.scoreRows(tested!), await scorer.scoreRows(template!)];
      for (const box of pair.boxes) {
        result.boxPositives.get(n)!.push(boxScore(positive.map, extractor.geometry, box));
        result.boxNegatives.get(n)!.push(boxScore(negative.map, extractor.geometry, box));
      }
      for (const [rule, spec] of Object.entries(plan.rules)) {
        result.imagePositives.get(n)![rule]!.push(imageScore(positive.map, extractor.geometry, spec));
        result.imageNegatives.get(n)![rule]!.push(imageScore(negative.map, extractor.geometry, spec));
      }
      if (n !== 10) continue;
      if (negative.score >= result.threshold) result.falseAlarms.push(pair.templatePath);
      if (positive.score >= result.threshold) result.detected++;
    }
  }
  for (const scorer of scorers.values()) await scorer.release();
  return result;
}
