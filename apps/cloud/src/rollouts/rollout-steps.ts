import type { Cohorts } from './cohort-stats.repository';
import type { DeviceKey } from '../fleet/state/device-model-states';
import type { RolloutDeviceState, RolloutRecord } from './rollout-records';

/** What a device last reported in ReportedState, as device_model_states holds it. */
export interface DeviceReport {
  /** The report answers the latest desired generation; an older one says nothing about it. */
  answersLatest: boolean;
  status: string | null;
  activeName: string | null;
  activeVersion: string | null;
  error: string;
}

/** What a device's telemetry last named as the model it runs. */
export interface DeviceTelemetry {
  /** Telemetry arrived after the device's rollout state last changed. */
  seenSinceChange: boolean;
  modelName: string | null;
  modelVersion: string | null;
}

export interface RolloutDeviceView extends DeviceKey {
  stage: number;
  state: RolloutDeviceState;
  detail: string;
  updatedAt: Date;
  report: DeviceReport | undefined;
  telemetry: DeviceTelemetry | undefined;
}

/**
 * What the planner reads about one live rollout on every pass, loaded in the
 * transaction that holds its row: the row, every device of it (in stage,
 * site, device order) with what each last reported, how far the shadow phase
 * got, and the database's clock.
 */
export interface RolloutObservation {
  now: Date;
  rollout: RolloutRecord;
  devices: RolloutDeviceView[];
  shadow: { startedAt: Date | null; passed: boolean };
}

/** The observation, with both cohorts' gate metrics when the gates judge this pass (judgesGates). */
export interface RolloutSnapshot extends RolloutObservation {
  cohorts?: Cohorts;
}

export interface DeviceChange extends DeviceKey {
  state: RolloutDeviceState;
  detail: string;
}

export type GateVerdictName = 'pass' | 'fail' | 'no-data';

/** Which of the rollout's two versions a step sends. */
export type RolloutVersionSide = 'to' | 'from';

/**
 * One thing to do to a rollout. The planner returns them in order; the
 * executor applies each in the rollout's transaction, one executor per kind.
 * Every audit event is a `record-event` step of its own, so the log of a
 * pass reads like its plan.
 */
export type RolloutStep =
  /** Devices whose reports or telemetry moved them (updating -> active, -> failed, reverting -> reverted). */
  | { kind: 'settle-devices'; changes: DeviceChange[] }
  /** Ask the devices of the current stage to run the new version. */
  | { kind: 'update-devices'; devices: DeviceKey[] }
  /** Devices keep the old version and run the new one beside it, in shadow. */
  | { kind: 'start-shadow'; devices: DeviceKey[] }
  | { kind: 'start-bake' }
  | { kind: 'count-verdict'; verdict: GateVerdictName }
  | { kind: 'record-event'; actor: string; action: string; detail: Record<string, unknown> }
  | { kind: 'pause'; reason: string }
  /** Running again; `restartTimers` also restarts the update timeouts, since a pause may have been for missing data. */
  | { kind: 'resume'; restartTimers: boolean }
  | { kind: 'abort'; reason: string }
  | { kind: 'begin-rollback'; reason: string }
  /** Devices never asked: they will not be; those that ran the candidate in shadow stop. */
  | { kind: 'skip-devices'; devices: DeviceKey[]; leaveShadow: boolean }
  /** Devices that were asked, run or refused the new version go back to the old one. */
  | { kind: 'revert-devices'; devices: DeviceKey[] }
  | { kind: 'finish-revert'; state: 'rolled_back' | 'aborted' }
  | { kind: 'advance-stage'; stage: number }
  | { kind: 'succeed' };

export type RolloutStepKind = RolloutStep['kind'];
export type StepOf<K extends RolloutStepKind> = Extract<RolloutStep, { kind: K }>;
