import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, normalize, resolve } from 'node:path';
import { MODEL_NAME_PATTERN, MODEL_NAME_RULE } from '@loupe/device-state';
import { z } from 'zod';
import { featureOutputSchema } from './feature-output';

/**
 * The JSON file beside every ONNX model that says how to feed it and how to
 * read its answer. Preprocessing is part of the model: the same weights fed
 * a plain stretch instead of the centre crop they were trained on give wrong
 * answers with full confidence.
 */

export const relativeFile = z
  .string()
  .min(1)
  .refine((path) => !isAbsolute(path) && !normalize(path).startsWith('..'), 'must be a path inside the model folder');

const dimension = z.number().int().positive();

/**
 * Interpolation of every resize. Training code usually resizes with OpenCV's
 * bilinear default; the same weights fed lanczos-resized pixels score
 * measurably differently (YOLOX-Nano: 0.65 instead of 0.71 on one image).
 */
const kernel = z.enum(['nearest', 'linear', 'cubic', 'lanczos3']).default('linear');

const resizeSchema = z.discriminatedUnion('mode', [
  /** Squeeze the whole image to the input size, ignoring aspect ratio. */
  z.object({ mode: z.literal('stretch'), kernel }),
  /** Scale to fit inside the input, keep aspect ratio, fill the rest with `padValue`. */
  z.object({
    mode: z.literal('letterbox'),
    padValue: z.number().min(0).max(255).default(114),
    anchor: z.enum(['center', 'top-left']).default('center'),
    kernel,
  }),
  /** Crop the centre square, scale it to `resizeTo`, then take the centre `cropTo` square. */
  z.object({ mode: z.literal('center-crop'), resizeTo: dimension, kernel }),
]);

export const inputSchema = z
  .object({
    name: z.string().min(1),
    /** [batch, channels, height, width] for NCHW, [batch, height, width, channels] for NHWC; batch -1 = dynamic. */
    shape: z.tuple([z.number().int().refine((n) => n === -1 || n >= 1, 'batch must be -1 (dynamic) or >= 1'), dimension, dimension, dimension]),
    layout: z.enum(['NCHW', 'NHWC']),
    dtype: z.enum(['float32', 'float16']),
    channelOrder: z.enum(['RGB', 'BGR']),
    resize: resizeSchema,
    /** value = (pixel * scale - mean[c]) / std[c], per channel in channelOrder. */
    normalize: z
      .object({
        scale: z.number().positive().default(1),
        mean: z.tuple([z.number(), z.number(), z.number()]).default([0, 0, 0]),
        std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).default([1, 1, 1]),
      })
      .default({ scale: 1, mean: [0, 0, 0], std: [1, 1, 1] }),
  })
  .superRefine((input, context) => {
    const channels = input.layout === 'NCHW' ? input.shape[1] : input.shape[3];
    if (channels !== 3) context.addIssue({ code: 'custom', path: ['shape'], message: `images have 3 channels; the shape says ${channels}` });
  });

const positivePair = z.tuple([z.number().positive(), z.number().positive()]);

/**
 * Where an anomaly model's score map lies on its input. Cell (column, row)
 * is centred on input pixel (offset[0] + stride[0] * column, offset[1] +
 * stride[1] * row) and its score depends on the receptiveField pixels
 * around that centre; pairs are [x, y], in pixels of the model's input
 * (after resize), not of the camera image.
 */
const anomalyMapSchema = z.object({
  /** The output holding one score per cell, [batch, height, width], on the scale of the image score. */
  output: z.string().min(1),
  width: dimension,
  height: dimension,
  stride: positivePair,
  offset: z.tuple([z.number(), z.number()]),
  receptiveField: positivePair,
});

const outputSchema = z.discriminatedUnion('task', [
  z.object({
    task: z.literal('classification'),
    /** The output holding one score per label. */
    scores: z.string().min(1),
    /** `softmax` when the model emits logits; `none` when it emits probabilities. */
    activation: z.enum(['none', 'softmax', 'sigmoid']).default('none'),
    topK: z.number().int().positive().default(5),
  }),
  z.object({
    task: z.literal('anomaly'),
    /** The output holding one anomaly score per image. */
    score: z.string().min(1),
    /** Scores at or above it are anomalous. */
    threshold: z.number(),
    /** The score map behind the image score, for heat maps and top regions. */
    map: anomalyMapSchema.optional(),
  }),
  z.object({
    task: z.literal('detection'),
    output: z.string().min(1),
    /** `yolox`: raw head output [N, anchors, 5 + classes], decoded on grids of these strides. */
    format: z.literal('yolox'),
    strides: z.array(z.number().int().positive()).min(1).default([8, 16, 32]),
    scoreThreshold: z.number().min(0).max(1).default(0.3),
    iouThreshold: z.number().min(0).max(1).default(0.45),
    maxDetections: z.number().int().positive().default(100),
  }),
]);

export const goldenSampleSchema = z.object({
  image: relativeFile,
  /** Expected score per label (classification) or `anomaly` (anomaly task). */
  expected: z.record(z.string(), z.number()),
  tolerance: z.number().positive().max(1),
});

// Head names follow the model-name rule: they become folder and metric names too.
export const nameSchema = z.string().regex(MODEL_NAME_PATTERN, `must be ${MODEL_NAME_RULE}`);

/**
 * How a prediction becomes a verdict: `reject` when the top label (or any
 * detected box) is one of `rejectLabels` with at least `minScore`, `pass`
 * otherwise. Without rejectLabels the verdict is the top label itself
 * (anomaly models reject at their threshold).
 */
const decisionSchema = z
  .object({ rejectLabels: z.array(z.string()).default([]), minScore: z.number().min(0).max(1).default(0.5) })
  .default({ rejectLabels: [], minScore: 0.5 });

/**
 * A further head of the same model: it reads the same backbone pass and
 * has outputs of its own (a Monitor: a classifier for confirmed defect
 * types beside a Discover anomaly head).
 */
const headSchema = z.object({
  name: nameSchema,
  output: outputSchema,
  labels: z.array(z.string().min(1)).min(1),
  decision: decisionSchema,
  /** `vote`: its verdict counts toward the station's; `report`: reported beside it only (a Monitor on trial). */
  role: z.enum(['vote', 'report']).default('vote'),
});

/** Which voting heads must reject for the station to reject. */
const verdictRuleSchema = z.union([z.literal('any'), z.literal('all'), z.object({ atLeast: z.number().int().min(1) })]);

export const modelManifestSchema = z
  .object({
    name: nameSchema,
    version: z.string().min(1).max(64),
    task: z.enum(['classification', 'anomaly', 'detection']),
    modelFile: relativeFile,
    input: inputSchema,
    /** The model's first head: task, output, labels, decision (all a model has when it has one head). */
    output: outputSchema,
    labels: z.array(z.string().min(1)).min(1),
    decision: decisionSchema,
    /** How the first head is named where heads are reported; its task by default. */
    headName: nameSchema.optional(),
    heads: z.array(headSchema).max(16).default([]),
    /** How the voting heads' verdicts combine into the station's (see combineVerdicts). */
    verdict: z.object({ reject: verdictRuleSchema.default('any') }).default({ reject: 'any' }),
    goldenSamples: z.array(goldenSampleSchema).default([]),
    /** Set when the model can also serve as a backbone for training (see docs/backbones.md). */
    features: featureOutputSchema.optional(),
  })
  .superRefine((manifest, context) => {
    const { width, height } = checkInputResize(manifest.input, context);
    if (manifest.output.task !== manifest.task) {
      context.addIssue({ code: 'custom', path: ['output', 'task'], message: `must match task "${manifest.task}"` });
    }
    if (manifest.output.task === 'anomaly' && manifest.output.map) checkMapGeometry(manifest.output.map, manifest.output.score, { width, height }, context);
    checkRejectLabels(manifest, [], context);
    if (manifest.heads.length > 0) checkHeads(manifest, context);
  });

type ParsedManifest = z.output<typeof modelManifestSchema>;

/** A centre crop must not be smaller than the input it is cut from; returns the input's size. */
export function checkInputResize(input: z.output<typeof inputSchema>, context: z.RefinementCtx): { width: number; height: number } {
  const { resize, shape, layout } = input;
  const [height, width] = layout === 'NCHW' ? [shape[2], shape[3]] : [shape[1], shape[2]];
  if (resize.mode === 'center-crop' && resize.resizeTo < Math.max(height, width)) {
    context.addIssue({ code: 'custom', path: ['input', 'resize', 'resizeTo'], message: `must be at least the input size ${width}x${height}` });
  }
  return { width, height };
}
type HeadLike = Pick<ParsedManifest, 'labels' | 'decision'>;

function checkRejectLabels(head: HeadLike, path: (string | number)[], context: z.RefinementCtx): void {
  for (const label of head.decision.rejectLabels) {
    if (!head.labels.includes(label)) context.addIssue({ code: 'custom', path: [...path, 'decision', 'rejectLabels'], message: `"${label}" is not one of labels` });
  }
}

/** Heads of one model: distinct names and outputs, each able to say reject or pass, and a rule their votes can meet. */
function checkHeads(manifest: ParsedManifest, context: z.RefinementCtx): void {
  const heads = manifestHeads(manifest);
  const names = new Set<string>();
  const outputs = new Set<string>();
  heads.forEach((head, index) => {
    const path = index === 0 ? [] : ['heads', index - 1];
    if (index > 0) checkRejectLabels(head, path, context);
    if (names.has(head.name)) context.addIssue({ code: 'custom', path: [...path, index === 0 ? 'headName' : 'name'], message: `head "${head.name}" is named twice` });
    names.add(head.name);
    for (const output of outputNames(head.output)) {
      if (outputs.has(output)) context.addIssue({ code: 'custom', path: [...path, 'output'], message: `output "${output}" belongs to another head already` });
      outputs.add(output);
    }
    if (head.role === 'vote' && head.output.task !== 'anomaly' && head.decision.rejectLabels.length === 0) {
      context.addIssue({ code: 'custom', path: [...path, 'decision', 'rejectLabels'], message: 'a head that votes must name the labels that reject' });
    }
  });
  const voting = heads.filter((head) => head.role === 'vote').length;
  const rule = manifest.verdict.reject;
  if (voting === 0) context.addIssue({ code: 'custom', path: ['heads'], message: 'at least one head must vote' });
  if (typeof rule === 'object' && rule.atLeast > voting) {
    context.addIssue({ code: 'custom', path: ['verdict', 'reject', 'atLeast'], message: `${rule.atLeast} rejecting heads are asked for, but only ${voting} vote` });
  }
}

function outputNames(output: OutputSpec): string[] {
  switch (output.task) {
    case 'classification':
      return [output.scores];
    case 'anomaly':
      return output.map ? [output.score, output.map.output] : [output.score];
    case 'detection':
      return [output.output];
  }
}

export type VerdictRule = z.output<typeof verdictRuleSchema>;

/** One head of a model as the agent serves it: the first (the manifest's own task and output) and then the further heads. */
export interface ModelHead {
  name: string;
  role: 'vote' | 'report';
  output: OutputSpec;
  labels: string[];
  decision: ParsedManifest['decision'];
}

export function manifestHeads(manifest: ParsedManifest): ModelHead[] {
  const first: ModelHead = { name: manifest.headName ?? manifest.task, role: 'vote', output: manifest.output, labels: manifest.labels, decision: manifest.decision };
  return [first, ...manifest.heads];
}

/** The map must be another output than the score, and its cell centres must lie on the input it was built for. */
function checkMapGeometry(map: z.output<typeof anomalyMapSchema>, score: string, input: { width: number; height: number }, context: z.RefinementCtx): void {
  const path = ['output', 'map'];
  if (map.output === score) context.addIssue({ code: 'custom', path: [...path, 'output'], message: 'must be another output than score' });
  const last = [map.offset[0] + map.stride[0] * (map.width - 1), map.offset[1] + map.stride[1] * (map.height - 1)];
  if (map.offset[0] < 0 || map.offset[1] < 0 || last[0]! >= input.width || last[1]! >= input.height) {
    context.addIssue({
      code: 'custom',
      path,
      message: `cell centres run from (${map.offset.join(', ')}) to (${last.join(', ')}), outside the ${input.width}x${input.height} input: a map for another input size?`,
    });
  }
}

export type ModelManifest = z.output<typeof modelManifestSchema>;
export type AnomalyMapSpec = z.output<typeof anomalyMapSchema>;
export type InputSpec = ModelManifest['input'];
export type OutputSpec = ModelManifest['output'];

/** A manifest that does not describe a usable model; `issues` name each field. */
export class InvalidManifestError extends Error {
  constructor(
    readonly file: string,
    readonly issues: string[],
  ) {
    super(`model manifest ${file} is invalid:\n  ${issues.join('\n  ')}`);
    this.name = 'InvalidManifestError';
  }
}

export function parseModelManifest(json: unknown, file: string): ModelManifest {
  if (isFeatureModel(json)) {
    throw new InvalidManifestError(file, ['task: "features" is a backbone, a feature extractor with no classes: train a head on it (docs/backbones.md) and serve that model']);
  }
  const result = modelManifestSchema.safeParse(json);
  if (result.success) return result.data;
  throw new InvalidManifestError(
    file,
    result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
  );
}

/** A manifest of task `features`: a backbone for training, never served for inspection. */
export function isFeatureModel(json: unknown): boolean {
  return typeof json === 'object' && json !== null && (json as { task?: unknown }).task === 'features';
}

export interface ManifestOnDisk {
  manifest: ModelManifest;
  /** Folder of the manifest; modelFile and golden images are relative to it. */
  directory: string;
  modelPath: string;
}

export async function readModelManifest(file: string): Promise<ManifestOnDisk> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new InvalidManifestError(file, [`not readable JSON: ${(error as Error).message}`]);
  }
  const manifest = parseModelManifest(json, file);
  const directory = dirname(resolve(file));
  return { manifest, directory, modelPath: resolve(directory, manifest.modelFile) };
}
