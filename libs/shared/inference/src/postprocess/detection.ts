import type { ModelManifest } from '../manifest/model-manifest';
import type { ImageGeometry } from '../preprocess/image-decoder';
import { originalBox } from './original-box';
import type { DetectionBox, Prediction } from './prediction';

type DetectionOutput = Extract<ModelManifest['output'], { task: 'detection' }>;

interface Candidate {
  classIndex: number;
  score: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/**
 * Decodes one image's YOLOX head output [anchors, 5 + classes]: anchors run
 * over the grids of each stride, row by row; a cell's box is centre
 * (p + grid) * stride, size exp(p) * stride; its score is objectness times
 * the best class probability. Then class-wise non-maximum suppression, and
 * boxes mapped back to the original image.
 */
export function detectYolox(
  raw: Float32Array,
  input: { width: number; height: number },
  output: DetectionOutput,
  manifest: ModelManifest,
  geometry: ImageGeometry,
): Prediction {
  const classes = manifest.labels.length;
  const stride = 5 + classes;
  const candidates: Candidate[] = [];
  let anchor = 0;
  for (const step of output.strides) {
    const rows = Math.floor(input.height / step);
    const columns = Math.floor(input.width / step);
    for (let gy = 0; gy < rows; gy++) {
      for (let gx = 0; gx < columns; gx++, anchor++) {
        const base = anchor * stride;
        if (base + stride > raw.length) throw new Error(`model output is shorter than the ${output.strides.join('/')} grids need`);
        const objectness = raw[base + 4]!;
        if (objectness < output.scoreThreshold) continue;
        let best = 0;
        for (let c = 1; c < classes; c++) if (raw[base + 5 + c]! > raw[base + 5 + best]!) best = c;
        const score = objectness * raw[base + 5 + best]!;
        if (score < output.scoreThreshold) continue;
        const cx = (raw[base]! + gx) * step;
        const cy = (raw[base + 1]! + gy) * step;
        const w = Math.exp(raw[base + 2]!) * step;
        const h = Math.exp(raw[base + 3]!) * step;
        candidates.push({ classIndex: best, score, x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2 });
      }
    }
  }
  const kept = suppressNonMaximum(candidates, output.iouThreshold).slice(0, output.maxDetections);
  const boxes = kept.map((candidate) => toOriginal(candidate, manifest.labels, geometry));
  return { verdict: detectionVerdict(boxes, manifest), scores: bestPerLabel(boxes), boxes };
}

/** Class-wise NMS: a box is dropped when a higher-scoring box of its class overlaps it more than `iouThreshold`. */
export function suppressNonMaximum<T extends Candidate>(candidates: T[], iouThreshold: number): T[] {
  const sorted = [...candidates].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const candidate of sorted) {
    const overlaps = kept.some((other) => other.classIndex === candidate.classIndex && iou(other, candidate) > iouThreshold);
    if (!overlaps) kept.push(candidate);
  }
  return kept;
}

function iou(a: Candidate, b: Candidate): number {
  const width = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const height = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const intersection = width * height;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - intersection;
  return union <= 0 ? 0 : intersection / union;
}

function toOriginal(candidate: Candidate, labels: string[], geometry: ImageGeometry): DetectionBox {
  return { label: labels[candidate.classIndex] ?? String(candidate.classIndex), score: candidate.score, ...originalBox(candidate, geometry) };
}

function detectionVerdict(boxes: DetectionBox[], manifest: ModelManifest): string {
  const { rejectLabels, minScore } = manifest.decision;
  if (rejectLabels.length === 0) return boxes[0]?.label ?? 'none';
  return boxes.some((box) => rejectLabels.includes(box.label) && box.score >= minScore) ? 'reject' : 'pass';
}

function bestPerLabel(boxes: DetectionBox[]): { label: string; score: number }[] {
  const best = new Map<string, number>();
  for (const box of boxes) best.set(box.label, Math.max(best.get(box.label) ?? 0, box.score));
  return [...best].map(([label, score]) => ({ label, score })).sort((a, b) => b.score - a.score);
}
