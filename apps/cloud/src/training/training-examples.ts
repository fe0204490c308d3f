import type { ProjectDto } from '@loupe/api-contracts';
import type { SettledSample } from '../labeling/dataset-export.repository';
import { splitOf, type Split } from '../labeling/dataset-split';
import type { FeatureKey } from './sample-feature.repository';

export interface CropBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One thing the head learns from: a whole image (classification, anomaly) or a crop around one labeled box (detection). */
export interface TrainingExample extends FeatureKey {
  imageKey: string;
  /** The labeled box to crop around (at the recipe's crop scale); absent for a whole image. */
  box?: CropBox;
  /** Index into the project's classes. */
  label: number;
  className: string;
  split: Split;
}

/**
 * The feature cache's key of a crop: the box in image pixels and the scale,
 * so a box drawn again, or another crop scale, is another vector.
 */
export const cropKeyOf = (box: CropBox, scale: number): string => `${box.x},${box.y},${box.width},${box.height}@${scale}`;

/**
 * What a project's settled samples teach: each sample's class, or each of
 * its boxes, with the sample's stable split (splitOf), so a box never trains
 * while another box of the same image is tested. Labels outside the
 * project's classes (a class removed since) are left out; a detection sample
 * with no boxes says nothing a crop classifier can learn.
 */
export function trainingExamples(project: Pick<ProjectDto, 'task' | 'classes'>, settled: readonly SettledSample[], cropScale: number): TrainingExample[] {
  const classIndex = new Map(project.classes.map((name, index) => [name, index]));
  const examples: TrainingExample[] = [];
  for (const sample of settled) {
    const split = splitOf(sample.sampleId);
    const base = { sampleId: sample.sampleId, imageKey: sample.imageKey, split };
    if (project.task === 'detection') {
      for (const { className, ...box } of sample.answer.boxes ?? []) {
        const label = classIndex.get(className);
        if (label !== undefined) examples.push({ ...base, cropKey: cropKeyOf(box, cropScale), box, label, className });
      }
    } else {
      const className = sample.answer.className;
      const label = className === undefined ? undefined : classIndex.get(className);
      if (label !== undefined) examples.push({ ...base, cropKey: '', label, className: className! });
    }
  }
  return examples;
}

/** The examples of each split, in the order given. */
export function bySplit(examples: readonly TrainingExample[]): Record<Split, TrainingExample[]> {
  const splits: Record<Split, TrainingExample[]> = { train: [], val: [], test: [] };
  for (const example of examples) splits[example.split].push(example);
  return splits;
}

/**
 * Why the examples cannot train and test a head, in words a person can act
 * on; undefined when they can. The head needs two classes to tell apart, the
 * validation split picks its regularisation and calibrates it, and the test
 * split is what the challenger and the champion are judged on.
 */
export function shortfallOf(splits: Record<Split, readonly TrainingExample[]>): string | undefined {
  const trainClasses = new Set(splits.train.map((example) => example.label)).size;
  const missing = [
    trainClasses < 2 ? `the train split holds ${trainClasses === 0 ? 'no' : 'one'} class; it needs two` : undefined,
    splits.val.length === 0 ? 'the validation split is empty' : undefined,
    splits.test.length === 0 ? 'the test split is empty' : undefined,
  ].filter((problem) => problem !== undefined);
  if (missing.length === 0) return undefined;
  return `not enough settled labels to train: ${missing.join('; ')} (samples fall 80/10/10 into train, validation and test by their id; label more)`;
}
