import { ModelStats as WireModelStats } from '@loupe/proto';
import { z } from 'zod';
import { modelNameSchema, type ModelVersion } from './model-version';

/** Top scores go into this many equal bins: [0, 0.1), [0.1, 0.2), ... [0.9, 1]. */
export const CONFIDENCE_BINS = 10;

/** The bin of a top score; scores outside [0, 1] land in the first or last bin. */
export function confidenceBin(topScore: number): number {
  return Math.min(CONFIDENCE_BINS - 1, Math.max(0, Math.floor(topScore * CONFIDENCE_BINS)));
}

/**
 * How one model version behaves on one box since it became active (ModelStats
 * in telemetry): the rollout gates sum these over a cohort, probation judges
 * them. The shadow counters come with their model, only while a shadow runs.
 */
export interface ModelStatistics {
  model: ModelVersion;
  inspections: number;
  /** Inspections the model failed to answer. */
  errors: number;
  /** Inspections whose verdict was "reject". */
  rejects: number;
  /** Inspections the sampling policy rated uncertain. */
  uncertain: number;
  /** CONFIDENCE_BINS counts of top scores. */
  confidenceHistogram: number[];
  p99Ms: number;
  shadowModel?: ModelVersion;
  shadowCompared?: number;
  shadowDisagreed?: number;
}

/** The counters of ModelStatistics that a cohort sums over its boxes, and the shadow counts as plain numbers (zero without a shadow). */
export type ModelCounters = Pick<ModelStatistics, 'inspections' | 'errors' | 'rejects' | 'uncertain' | 'confidenceHistogram' | 'p99Ms'> & {
  shadowCompared: number;
  shadowDisagreed: number;
};

const count = z.number().int().min(0);

const statsSchema = z.object({
  model: z.object({ name: modelNameSchema, version: z.string().min(1).max(64), sha256: z.string() }, { message: 'model_stats.model is required' }),
  inspections: count,
  errors: count,
  rejects: count,
  uncertain: count,
  confidenceHistogram: z.array(count).length(CONFIDENCE_BINS, `model_stats.confidence_histogram must have ${CONFIDENCE_BINS} bins`),
  p99Ms: z.number().min(0),
  shadow: z.object({ model: z.object({ name: z.string(), version: z.string().max(64), sha256: z.string() }).optional(), compared: count, disagreed: count }).optional(),
});

/**
 * Checks a decoded ModelStats; a message from a box on the previous release
 * carries its shadow in the deprecated flat fields, read when `shadow` is
 * absent. Returns the issues' messages when it is invalid.
 */
export function modelStatsFromWire(decoded: WireModelStats): { stats: ModelStatistics } | { issues: string[] } {
  const shadow = decoded.shadow ?? (decoded.shadowModel ? { model: decoded.shadowModel, compared: decoded.shadowCompared, disagreed: decoded.shadowDisagreed } : undefined);
  const parsed = statsSchema.safeParse({ ...decoded, shadow });
  if (!parsed.success) return { issues: parsed.error.issues.map((issue) => issue.message) };
  const { shadow: checked, ...stats } = parsed.data;
  return {
    stats: {
      ...stats,
      ...(checked?.model ? { shadowModel: checked.model, shadowCompared: checked.compared, shadowDisagreed: checked.disagreed } : {}),
    },
  };
}

/**
 * The ModelStats message for `stats`. The deprecated flat shadow fields carry
 * the same counts for one release, for a cloud on the previous release.
 */
export function modelStatsToWire(stats: ModelStatistics): WireModelStats {
  const { shadowModel, shadowCompared = 0, shadowDisagreed = 0, ...counters } = stats;
  return WireModelStats.fromPartial({
    ...counters,
    ...(shadowModel ? { shadow: { model: shadowModel, compared: shadowCompared, disagreed: shadowDisagreed }, shadowModel } : {}),
    shadowCompared,
    shadowDisagreed,
  });
}
