import { type ModelManifest, parseModelManifest, type VerdictRule } from '@loupe/inference';
import type { AnomalyMetadata } from './anomaly-model';
import type { InputSpec } from './image-tensor';

/** A classifier head beside the anomaly head, as the manifest describes it. */
export interface MonitorEntry {
  name: string;
  /** The model output of its class probabilities. */
  output: string;
  labels: string[];
  rejectLabels: string[];
  minScore?: number;
  role?: 'vote' | 'report';
}

export interface AnomalyManifestFields {
  name: string;
  version: string;
  modelFile: string;
  /** The backbone's preprocessing at the station's image size. */
  input: InputSpec;
  /** In score units (see MemoryBank.scoreUnit), from calibration. */
  threshold: number;
  headName?: string;
  monitors?: readonly MonitorEntry[];
  verdict?: VerdictRule;
}

/**
 * The manifest of an exported anomaly model, validated as the agent will
 * read it: the anomaly head first (score, threshold, and the score map with
 * the geometry of its cells), then any Monitors, and the verdict rule.
 */
export function anomalyManifest(metadata: AnomalyMetadata, fields: AnomalyManifestFields): ModelManifest {
  const { geometry } = metadata;
  const json = {
    name: fields.name,
    version: fields.version,
    task: 'anomaly',
    modelFile: fields.modelFile,
    input: fields.input,
    output: {
      task: 'anomaly',
      score: metadata.outputs.score,
      threshold: fields.threshold,
      map: { output: metadata.outputs.map, width: geometry.width, height: geometry.height, stride: geometry.stride, offset: geometry.offset, receptiveField: geometry.receptiveField },
    },
    labels: ['anomaly'],
    headName: fields.headName ?? metadata.head,
    heads: (fields.monitors ?? []).map((monitor) => ({
      name: monitor.name,
      role: monitor.role ?? 'vote',
      output: { task: 'classification', scores: monitor.output, activation: 'none', topK: monitor.labels.length },
      labels: monitor.labels,
      decision: { rejectLabels: monitor.rejectLabels, minScore: monitor.minScore ?? 0.5 },
    })),
    verdict: { reject: fields.verdict ?? 'any' },
  };
  return parseModelManifest(json, `${fields.name}@${fields.version} manifest`);
}
