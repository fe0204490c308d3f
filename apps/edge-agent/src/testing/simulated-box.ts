import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ModelSlot, parseModelManifest, type ModelPipeline } from '@loupe/inference';
import { fileDigest } from '@loupe/model-package';
import { TopicRouter, type MqttLink, type MqttMessageHandler } from '@loupe/mqtt';
import { ReportedState } from '@loupe/proto';
import { DeviceTopics } from '@loupe/topics';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { ModelActivation } from '../models/model-activation';
import { ModelStats } from '../models/model-stats';
import { startModelUpdates, type ModelUpdates } from '../ota/model-updates';
import { ShadowComparison } from '../shadow/shadow-comparison';
import { ShadowMetrics } from '../shadow/shadow-metrics';
import type { FileSystem } from '../storage/file-system';

const DEVICE = { siteId: 'plant-7', deviceId: 'aoi-1' };
const topics = new DeviceTopics('loupe/v1');

/** A model the box put into service: its manifest and the SHA-256 of its model file as loaded. */
export interface ServedModel {
  manifestPath: string;
  sha256: string;
}

/** A connected MQTT link without a broker: it keeps what is published and hands the box what `deliver` gives it. */
class InMemoryLink extends EventEmitter {
  readonly connected = true;
  readonly published: { topic: string; payload: Buffer }[] = [];
  private readonly router = new TopicRouter();

  onMessage(filter: string, handler: MqttMessageHandler): void {
    this.router.onMessage(filter, handler);
  }

  subscribe(): Promise<void> {
    return Promise.resolve();
  }

  publish(topic: string, payload: Uint8Array): Promise<void> {
    this.published.push({ topic, payload: Buffer.from(payload) });
    return Promise.resolve();
  }

  deliver(topic: string, payload: Buffer): void {
    this.router.deliver(topic, payload, undefined as never, (error) => {
      throw error;
    });
  }
}

/**
 * Loads a model as far as files go: reads and parses its manifest and
 * hashes its model file, as ModelPipeline.open does before onnxruntime
 * starts, so a missing or torn version fails to load. Serving records it.
 */
function fileLevelActivation(served: ServedModel[]): ModelActivation {
  const activation = {
    load: async (manifestPath: string) => {
      const manifest = parseModelManifest(JSON.parse(await readFile(manifestPath, 'utf8')), manifestPath);
      const { sha256 } = await fileDigest(join(dirname(manifestPath), manifest.modelFile));
      const model = { manifest, sha256, provider: 'cpu', directory: dirname(manifestPath), manifestPath };
      const timings = { decodeMs: 0, preprocessMs: 0, queueMs: 0, inferenceMs: 0, postprocessMs: 0, totalMs: 1 };
      return { model, close: () => Promise.resolve(), inspect: () => Promise.resolve({ timings }) } as unknown as ModelPipeline;
    },
    serve: (pipeline: ModelPipeline) => {
      const { sha256, manifestPath } = pipeline.model as unknown as ServedModel;
      served.push({ manifestPath, sha256 });
      return Promise.resolve();
    },
  };
  return activation as unknown as ModelActivation;
}

export interface SimulatedBox {
  updates: ModelUpdates;
  /** Every model served, in order: the last one is in the slot. */
  served: ServedModel[];
  /** Every state the box reported. */
  reports(): ReportedState[];
  /** Hands the box a DesiredState, as the retained message would. */
  desire(payload: Buffer): void;
}

/**
 * A box's OTA for power-loss tests: the real update code (startModelUpdates:
 * the planner, every executor, the state file and the store) on `files`,
 * with the broker and onnxruntime replaced by stand-ins that keep it all in
 * this process and fast.
 */
export function startSimulatedBox(options: { files: FileSystem; modelsDir: string; registryKeysFile: string; bootManifest: string }): SimulatedBox {
  const link = new InMemoryLink();
  const served: ServedModel[] = [];
  const logger = pino({ level: 'silent' });
  const registry = new Registry();
  const stats = new ModelStats();
  const shadowMetrics = new ShadowMetrics(registry);
  const updates = startModelUpdates({
    settings: {
      modelsDir: options.modelsDir,
      registryKeysFile: options.registryKeysFile,
      diskReserveBytes: 0,
      selfTestLatencyBudgetMs: 60_000,
      downloadStallTimeoutMs: 5_000,
      probation: { windowMs: 600_000, budget: { maxCrashes: 2, maxErrorRate: 0.05, maxP99Ms: 1_000, minInspections: 20 } },
    },
    bootManifest: options.bootManifest,
    identity: DEVICE,
    link: link as unknown as MqttLink,
    topics,
    slot: new ModelSlot(),
    activation: fileLevelActivation(served),
    stats,
    shadow: { comparison: new ShadowComparison(4, stats, shadowMetrics, logger), metrics: shadowMetrics },
    registry,
    logger,
    files: options.files,
  });
  const reported = topics.forDevice(DEVICE.siteId, DEVICE.deviceId, 'reported');
  return {
    updates,
    served,
    reports: () => link.published.filter((message) => message.topic === reported).map((message) => ReportedState.decode(message.payload)),
    desire: (payload) => link.deliver(topics.forDevice(DEVICE.siteId, DEVICE.deviceId, 'desired'), payload),
  };
}
