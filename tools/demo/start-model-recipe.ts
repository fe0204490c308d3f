import type { EvaluationDto } from '@loupe/api-contracts';

/** The demo's starting model: its registry name, file and classes (in the order of the demo project's). */
export const DEMO_START_MODEL = { name: 'pcb-defects', modelFile: 'pcb-defects.onnx', classes: ['Normal', 'Defective'] } as const;

/** Board groups (of the 11 sorted) whose crops train the starting model, and the one that chooses L2 and the temperature. */
const TRAIN_GROUPS = 2;
const VAL_GROUPS = 1;
/** Pairs per training board group: a few labels, as a newcomer's first model would have. */
const PAIRS_PER_TRAIN_GROUP = 3;

/** A demo crop, `<label>_<pair id>_<n>.png`; the pair id's first five digits are its board group. */
export interface DemoCrop {
  file: string;
  label: 'Normal' | 'Defective';
  group: string;
  pair: string;
}

export interface DemoCropSplit {
  groups: { train: string[]; val: string[]; test: string[] };
  /** A few pairs of the training groups. */
  train: DemoCrop[];
  val: DemoCrop[];
  /** Every crop of the boards the model never saw: what its accuracy is measured on. */
  test: DemoCrop[];
  /** The training groups' other crops: not used by the starting model, only to say what all of them would reach. */
  rest: DemoCrop[];
}

export function demoCrop(file: string): DemoCrop {
  const match = /^(Normal|Defective)_((\d{5})\d{3})_\d+\.png$/.exec(file);
  if (!match) throw new RangeError(`${file} is not a demo crop name (<Normal|Defective>_<pair id>_<n>.png)`);
  return { file, label: match[1] as DemoCrop['label'], pair: match[2]!, group: match[3]! };
}

/** Splits by board group, so the measured accuracy is on boards the model has not seen; deterministic for a given list of names. */
export function demoCropSplit(files: readonly string[]): DemoCropSplit {
  const crops = [...files].sort().map(demoCrop);
  const groups = [...new Set(crops.map((crop) => crop.group))].sort();
  if (groups.length <= TRAIN_GROUPS + VAL_GROUPS) throw new RangeError(`the demo crops come from ${groups.length} board groups; the split needs more than ${TRAIN_GROUPS + VAL_GROUPS}`);
  const named = { train: groups.slice(0, TRAIN_GROUPS), val: groups.slice(TRAIN_GROUPS, TRAIN_GROUPS + VAL_GROUPS), test: groups.slice(TRAIN_GROUPS + VAL_GROUPS) };
  const inGroups = (names: string[]) => crops.filter((crop) => names.includes(crop.group));
  const trainGroups = inGroups(named.train);
  const chosen = named.train.flatMap((group) => firstPairs(inGroups([group])));
  return {
    groups: named,
    train: chosen,
    val: firstPairs(inGroups(named.val)),
    test: inGroups(named.test),
    rest: trainGroups.filter((crop) => !chosen.includes(crop)),
  };
}

/** The crops of the first few pairs (in name order) of one board group. */
function firstPairs(crops: readonly DemoCrop[]): DemoCrop[] {
  const pairs = [...new Set(crops.map((crop) => crop.pair))].sort().slice(0, PAIRS_PER_TRAIN_GROUP);
  return crops.filter((crop) => pairs.includes(crop.pair));
}

export interface DemoModelFigures {
  split: { train: number; val: number; test: number };
  groups: DemoCropSplit['groups'];
  l2: number;
  temperature: number;
  test: EvaluationDto;
  full: EvaluationDto;
  fullTrain: number;
}

const percent = (value: number) => `${(100 * value).toFixed(1)}%`;

/** The package's README, written with the figures of the build that made it, so the two never disagree. */
export function demoModelReadme(figures: DemoModelFigures): string {
  const { test, full } = figures;
  const rows = test.perClass.map((metrics) => `| ${metrics.className} | ${percent(metrics.precision)} | ${percent(metrics.recall)} | ${metrics.support} |`);
  return [
    `# ${DEMO_START_MODEL.name}: the demo's starting model (Normal / Defective)`,
    '',
    'Built by `npm run demo:build-model` (`tools/demo/build-start-model.ts`); do not edit by hand.',
    '',
    '- Backbone: the shipped SqueezeNet (`tools/backbones/squeezenet-features`, MIT), `fire9/concat_1` pooled to 512 features.',
    '- Head: `@loupe/trainer` `trainHead` with the default recipe (softmax regression, L-BFGS, class weighting, L2 chosen on',
    `  validation, temperature scaling): chosen L2 ${figures.l2}, temperature ${figures.temperature.toFixed(3)}.`,
    '- Data: the demo crops `tools/demo/images/deeppcb-crops` (DeepPCB, MIT): a window around a defect box on the tested',
    '  image (Defective) and the same window on the defect-free template (Normal). Split by board group:',
    `  train ${figures.split.train} crops (${PAIRS_PER_TRAIN_GROUP} pairs of each of groups ${figures.groups.train.join(', ')}),`,
    `  validation ${figures.split.val} crops (group ${figures.groups.val.join(', ')}), test ${figures.split.test} crops`,
    `  (every crop of groups ${figures.groups.test.join(', ')}: boards the model never saw).`,
    '- Deliberately modest: a newcomer labeling demo samples in `npm start` should train a better version 2.',
    '',
    `## Measured on the ${test.samples} held-out crops`,
    '',
    `Accuracy ${percent(test.accuracy)}, macro-F1 ${percent(test.macroF1)}, calibration error ${percent(test.calibrationError)}.`,
    '',
    '| class | precision | recall | crops |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
    `Confusion (rows actual, columns predicted, ${test.classes.join(' / ')}): ${JSON.stringify(test.confusion)}.`,
    '',
    `The same recipe trained on all ${figures.fullTrain} crops of the training groups reaches ${percent(full.accuracy)} accuracy`,
    `(macro-F1 ${percent(full.macroF1)}) on the same test crops: the room the labeling loop has.`,
    '',
    '## Licences',
    '',
    'The graph and weights of the backbone are SqueezeNet as exported by Microsoft Windows-Machine-Learning (MIT, see',
    '`tools/backbones/squeezenet-features/LICENSE`); the head was trained here. The sample images are DeepPCB crops',
    '(MIT, see `tools/demo/images/deeppcb-crops/LICENSE`).',
    '',
  ].join('\n');
}
