import { DEFAULT_UNPACK_LIMITS } from '@loupe/model-package';
import type { ModelSlot } from '@loupe/inference';
import type { MqttLink } from '@loupe/mqtt';
import type { ProbationBudget } from '@loupe/ota';
import type { DeviceTopics } from '@loupe/topics';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ModelActivation } from '../models/model-activation';
import type { ModelStats } from '../models/model-stats';
import type { ShadowComparison } from '../shadow/shadow-comparison';
import type { ShadowMetrics } from '../shadow/shadow-metrics';
import { nodeFileSystem, type FileSystem } from '../storage/file-system';
import { BoxStateFile } from './box-state-file';
import { startBox } from './box-start';
import { killingAt, NO_FAULT_POINTS, type FaultPoints, type OtaFaultPoint } from './fault-points';
import { ModelSelfTest } from './model-self-test';
import { ModelStore } from './model-store';
import { ModelUpdater, type UpdateExecutors } from './model-updater';
import { ModelWarmUp } from './model-warm-up';
import { OtaMetrics } from './ota-metrics';
import { PackageDownload } from './package-download';
import { PackageVerification } from './package-verification';
import { ProbationWatch } from './probation-watch';
import { ShadowUpdater } from './shadow-updater';
import { StateReporter } from './state-reporter';
import { VersionActivation } from './version-activation';
import { VersionRollback } from './version-rollback';
import { VersionStaging } from './version-staging';

export interface OtaSettings {
  modelsDir: string;
  registryKeysFile: string;
  /** Free bytes an update must leave on the models disk (OTA_DISK_RESERVE_BYTES). */
  diskReserveBytes: number;
  selfTestLatencyBudgetMs: number;
  downloadStallTimeoutMs: number;
  probation: { windowMs: number; budget: ProbationBudget };
  /** Test-only (OTA_TEST_KILL_AT): the agent SIGKILLs itself at this point of an update. */
  testKillAt?: OtaFaultPoint;
}

export interface ModelUpdatesParts {
  settings: OtaSettings;
  /** MODEL_MANIFEST, for a fresh box. */
  bootManifest?: string;
  identity: { siteId: string; deviceId: string };
  link: MqttLink;
  topics: DeviceTopics;
  /** The broker credentials, which also authenticate package downloads. */
  credentials?: { username: string; password: string };
  slot: ModelSlot;
  activation: ModelActivation;
  stats: ModelStats;
  /** The second slot, where a shadow the desired state names runs. */
  shadow: { comparison: ShadowComparison; metrics: ShadowMetrics };
  registry: Registry;
  logger: Logger;
  /** Wall-clock milliseconds; probation windows outlive restarts. */
  now?: () => number;
  /** The disk under MODELS_DIR; crash tests put a simulated one here. */
  files?: FileSystem;
}

export interface ModelUpdates {
  /** Settles once the start-up model serves (or none could) and updates are being taken. */
  started: Promise<void>;
  stop(): Promise<void>;
}

/**
 * OTA model updates on the box, put together: the persisted box state, one
 * executor per step, the reconcile loop, the probation watch and the
 * reported state. Serving the start-up model comes first; desired states
 * that arrive meanwhile wait.
 */
export function startModelUpdates(parts: ModelUpdatesParts): ModelUpdates {
  const { settings, identity, link, topics, slot, activation, stats, logger } = parts;
  const now = parts.now ?? Date.now;
  const log = logger.child({ component: 'ota' });
  const metrics = new OtaMetrics(parts.registry);
  const faults = faultPointsOf(settings, log);
  const store = new ModelStore(settings.modelsDir, parts.files ?? nodeFileSystem);
  const state = new BoxStateFile(store.stateFile, log, store.files);
  const reporter = new StateReporter(link, topics, identity, state, slot, metrics, logger);
  const executors = updateExecutors(parts, { store, state, metrics, faults, now });
  const updater = new ModelUpdater({
    link,
    desiredTopic: topics.forDevice(identity.siteId, identity.deviceId, 'desired'),
    state,
    store,
    reporter,
    metrics,
    faults,
    logger,
    executors,
    shadow: new ShadowUpdater({ state, executors, comparison: parts.shadow.comparison, metrics: parts.shadow.metrics, logger }),
  });
  const probation = new ProbationWatch(state, stats, settings.probation, { failed: (failure) => updater.probationFailed(failure), passed: () => updater.probationPassedWindow() }, now);

  const started = (async () => {
    await updater.listen();
    await store.prepare();
    await state.load();
    await startBox({ state, activation, metrics, budget: settings.probation.budget, ...(parts.bootManifest ? { bootManifest: parts.bootManifest } : {}), log });
    reporter.start();
    await reporter.publish();
    probation.start();
    updater.run();
  })();

  return {
    started,
    stop: async () => {
      await started.catch(() => undefined);
      probation.stop();
      await updater.stop();
      await reporter.stop();
      // A clean stop: the next start does not count a crash. A stop on a full disk still stops.
      await state.change((current) => ({ ...current, agentRunning: false })).catch((error: unknown) => {
        log.error({ err: (error as Error).message }, 'could not record a clean stop; the next start counts this one as a crash');
      });
    },
  };
}

function faultPointsOf(settings: OtaSettings, log: Logger): FaultPoints {
  if (!settings.testKillAt) return NO_FAULT_POINTS;
  log.warn({ faultPoint: settings.testKillAt }, 'OTA_TEST_KILL_AT is set: this agent will kill itself during an update (for tests only)');
  return killingAt(settings.testKillAt);
}

/** One executor per kind of update step. */
function updateExecutors(
  parts: ModelUpdatesParts,
  box: { store: ModelStore; state: BoxStateFile; metrics: OtaMetrics; faults: FaultPoints; now: () => number },
): UpdateExecutors {
  const { settings, activation, logger } = parts;
  const { store, state, metrics, faults, now } = box;
  return {
    download: new PackageDownload(
      store,
      {
        stallTimeoutMs: settings.downloadStallTimeoutMs,
        diskReserveBytes: settings.diskReserveBytes,
        ...(parts.credentials ? { credentials: parts.credentials } : {}),
      },
      metrics,
      logger,
      faults,
    ),
    verification: new PackageVerification(store, settings.registryKeysFile, DEFAULT_UNPACK_LIMITS, logger, faults),
    staging: new VersionStaging(store, state, logger, faults),
    warmUp: new ModelWarmUp(activation, state, logger, faults),
    selfTest: new ModelSelfTest(settings.selfTestLatencyBudgetMs, logger),
    activation: new VersionActivation(activation, state, store, now, logger, faults),
    rollback: new VersionRollback(activation, state, logger, faults),
  };
}
