import type { DeviceKey } from '../fleet/state/device-model-states';
import { judgeCohorts, judgeShadow, type GateCheck, type GateVerdict } from './cohort-gates';
import type { Cohorts } from './cohort-stats.repository';
import { observedChange } from './device-observations';
import { RolloutConflictError } from './rollout-errors';
import type { RolloutRecord, RolloutState } from './rollout-records';
import type { DeviceChange, RolloutDeviceView, RolloutObservation, RolloutSnapshot, RolloutStep } from './rollout-steps';

/** The actor of every step the reconciler takes on its own. */
export const CONTROLLER = 'controller';

export type RolloutCommand = 'pause' | 'resume' | 'abort' | 'promote';

const ALLOWED: Record<RolloutCommand, readonly RolloutState[]> = {
  pause: ['running'],
  resume: ['paused'],
  abort: ['running', 'paused'],
  promote: ['running', 'paused'],
};

const key = (device: DeviceKey): DeviceKey => ({ siteId: device.siteId, deviceId: device.deviceId });

/** What a pass does next: steps, or a judgement of the gates that needs both cohorts measured. */
type Decision = RolloutStep[] | ((cohorts: Cohorts) => RolloutStep[]);

function decide(snapshot: RolloutObservation): { settle: RolloutStep[]; next: Decision } {
  const changes = snapshot.devices.flatMap((device) => observedChange(device, snapshot.rollout) ?? []);
  const settled: RolloutObservation = { ...snapshot, devices: applyChanges(snapshot.devices, changes, snapshot.now) };
  const settle: RolloutStep[] = changes.length > 0 ? [{ kind: 'settle-devices', changes }] : [];
  const { state } = snapshot.rollout;
  if (state === 'running') return { settle, next: planRunning(settled) };
  if (state === 'rolling_back' || state === 'aborting') return { settle, next: planRevert(settled.rollout, settled.devices, state) };
  return { settle, next: [] };
}

/** Whether the gates judge this pass: only then are the cohorts' metrics worth measuring. */
export function judgesGates(snapshot: RolloutObservation): boolean {
  return typeof decide(snapshot).next === 'function';
}

/**
 * The next steps of one live rollout, from a snapshot of it: first the
 * devices its reports moved, then, on the devices as they now stand, what the
 * rollout's state asks for. Returns nothing when the rollout waits (for
 * devices, a bake, data). Pure: the same snapshot always gives the same steps.
 */
export function planRollout(snapshot: RolloutSnapshot): RolloutStep[] {
  const { settle, next } = decide(snapshot);
  if (typeof next !== 'function') return [...settle, ...next];
  if (!snapshot.cohorts) throw new Error(`rollout ${snapshot.rollout.id}: the gates judge this pass, but the cohorts were not measured`);
  return [...settle, ...next(snapshot.cohorts)];
}

/** A person's command; the rollout's state must allow it. The event comes first: it carries the person's reason. */
export function planCommand(rollout: RolloutRecord, command: RolloutCommand, actor: string, reason: string): RolloutStep[] {
  if (!ALLOWED[command].includes(rollout.state)) {
    throw new RolloutConflictError(`rollout ${rollout.id} is ${rollout.state}; ${command} needs it ${ALLOWED[command].join(' or ')}`);
  }
  const event: RolloutStep = { kind: 'record-event', actor, action: command, detail: { reason, stage: rollout.stage } };
  switch (command) {
    case 'pause':
      return [event, { kind: 'pause', reason }];
    case 'resume':
      return [event, { kind: 'resume', restartTimers: true }];
    case 'abort':
      return [event, { kind: 'abort', reason: reason || 'aborted by a person' }];
    case 'promote': {
      const completed = completeStage(rollout, actor);
      const unpause = rollout.state === 'paused' && completed[0]?.kind === 'advance-stage';
      return [event, ...completed, ...(unpause ? [{ kind: 'resume', restartTimers: false } as const] : [])];
    }
  }
}

function applyChanges(devices: RolloutDeviceView[], changes: DeviceChange[], now: Date): RolloutDeviceView[] {
  if (changes.length === 0) return devices;
  const byKey = new Map(changes.map((change) => [`${change.siteId}/${change.deviceId}`, change]));
  return devices.map((device) => {
    const change = byKey.get(`${device.siteId}/${device.deviceId}`);
    return change ? { ...device, state: change.state, detail: change.detail, updatedAt: now } : device;
  });
}

/** Devices of the current and earlier stages, and any later one already asked. */
function countDevices(devices: RolloutDeviceView[], stage: number) {
  const counts = { pending: 0, updating: 0, active: 0, failed: 0 };
  for (const device of devices) {
    if (device.stage > stage && device.state === 'pending') continue;
    if (device.state in counts) counts[device.state as keyof typeof counts]++;
  }
  return counts;
}

function planRunning(snapshot: RolloutObservation): Decision {
  const { rollout, devices, now } = snapshot;
  const { plan } = rollout;
  const counts = countDevices(devices, rollout.stage);
  if (counts.failed > 0) return rollBackFailedDevices(rollout, devices, counts.failed);

  const lateBefore = now.getTime() - plan.updateTimeoutSeconds * 1_000;
  const late = devices.filter((device) => device.state === 'updating' && device.updatedAt.getTime() < lateBefore).length;
  if (late > 0) return pause(`missing data: ${late} device(s) have not reported version ${rollout.toVersion} within ${plan.updateTimeoutSeconds}s`);

  if (plan.gates.shadow && !snapshot.shadow.passed) return planShadow(snapshot);

  if (counts.pending > 0) {
    const room = plan.maxUpdating - counts.updating;
    if (room <= 0) return [];
    const next = devices.filter((device) => device.state === 'pending' && device.stage <= rollout.stage);
    return [{ kind: 'update-devices', devices: next.slice(0, room).map(key) }];
  }
  if (counts.updating > 0) return [];
  return planStageGate(snapshot);
}

function rollBackFailedDevices(rollout: RolloutRecord, devices: RolloutDeviceView[], count: number): RolloutStep[] {
  const failed = devices
    .filter((device) => device.state === 'failed')
    .sort((a, b) => compare(a.siteId, b.siteId) || compare(a.deviceId, b.deviceId))
    .slice(0, 20);
  const first = failed[0]!;
  return [
    {
      kind: 'record-event',
      actor: CONTROLLER,
      action: 'gate-failed',
      detail: { stage: rollout.stage, gate: 'device-updates', devices: failed.map((d) => ({ device: `${d.siteId}/${d.deviceId}`, reason: d.detail })) },
    },
    { kind: 'count-verdict', verdict: 'fail' },
    ...rollBack(rollout, devices, `${count} device(s) failed version ${rollout.toVersion}: ${first.siteId}/${first.deviceId}: ${first.detail || 'no reason given'}`),
  ];
}

/**
 * Shadow gates: before any box serves the candidate, every box not yet asked
 * keeps the old version active and runs the candidate beside it, so its
 * disagreement is measured on the whole group's parts. It starts and passes once.
 */
function planShadow({ rollout, devices, shadow, now }: RolloutObservation): Decision {
  if (shadow.startedAt === null) {
    const pending = devices.filter((device) => device.state === 'pending').map(key);
    return [
      { kind: 'start-shadow', devices: pending },
      { kind: 'record-event', actor: CONTROLLER, action: 'shadow-started', detail: { devices: pending.length, shadowVersion: rollout.toVersion } },
    ];
  }
  const measuredSeconds = (now.getTime() - shadow.startedAt.getTime()) / 1_000;
  return (cohorts) =>
    judged(rollout, devices, judgeShadow(cohorts.baseline, rollout.plan.gates), {
      waitForData: measuredSeconds < rollout.plan.gates.dataTimeoutSeconds,
      context: { stage: rollout.stage, phase: 'shadow', ...cohorts },
      failure: `gate failed in shadow`,
      passed: (checks) => [{ kind: 'record-event', actor: CONTROLLER, action: 'shadow-passed', detail: { stage: rollout.stage, checks, ...cohorts } }],
    });
}

/** Every device of the stage runs the new version: bake, then let the gates judge. */
function planStageGate({ rollout, devices, now }: RolloutObservation): Decision {
  const stage = rollout.plan.stages[rollout.stage]!;
  if (rollout.bakeStartedAt === null) {
    return [
      { kind: 'start-bake' },
      { kind: 'record-event', actor: CONTROLLER, action: 'stage-baking', detail: { stage: rollout.stage, name: stage.name, bakeSeconds: stage.bakeSeconds } },
    ];
  }
  const bakedSeconds = (now.getTime() - rollout.bakeStartedAt.getTime()) / 1_000;
  if (bakedSeconds < stage.bakeSeconds) return [];
  return (cohorts) =>
    judged(rollout, devices, judgeCohorts(cohorts.candidate, cohorts.baseline, rollout.plan.gates), {
      waitForData: bakedSeconds < stage.bakeSeconds + rollout.plan.gates.dataTimeoutSeconds,
      context: { stage: rollout.stage, ...cohorts },
      failure: `gate failed at stage "${stage.name}"`,
      passed: (checks) => [
        { kind: 'record-event', actor: CONTROLLER, action: 'gate-passed', detail: { stage: rollout.stage, checks, ...cohorts } },
        ...completeStage(rollout, CONTROLLER),
      ],
    });
}

interface Judgement {
  /** No data yet, but the wait for it is not over. */
  waitForData: boolean;
  /** What the audit events of this judgement carry beside the verdict. */
  context: Record<string, unknown>;
  failure: string;
  passed: (checks: GateCheck[]) => RolloutStep[];
}

/** No data pauses once the wait is over, never promotes; a failed gate rolls back. */
function judged(rollout: RolloutRecord, devices: RolloutDeviceView[], verdict: GateVerdict, judgement: Judgement): RolloutStep[] {
  if (verdict.verdict === 'no-data') {
    if (judgement.waitForData) return [];
    return [
      { kind: 'count-verdict', verdict: 'no-data' },
      { kind: 'record-event', actor: CONTROLLER, action: 'gate-no-data', detail: { ...judgement.context, missing: verdict.missing } },
      ...pause(`missing data: ${verdict.missing.join('; ')}`),
    ];
  }
  if (verdict.verdict === 'fail') {
    return [
      { kind: 'count-verdict', verdict: 'fail' },
      { kind: 'record-event', actor: CONTROLLER, action: 'gate-failed', detail: { ...judgement.context, failed: verdict.failed, checks: verdict.checks } },
      ...rollBack(rollout, devices, `${judgement.failure}: ${describeFailures(verdict.checks)}`),
    ];
  }
  return [{ kind: 'count-verdict', verdict: 'pass' }, ...judgement.passed(verdict.checks)];
}

function pause(reason: string): RolloutStep[] {
  return [
    { kind: 'pause', reason },
    { kind: 'record-event', actor: CONTROLLER, action: 'paused', detail: { reason } },
  ];
}

/** Moves past the current stage (its gates passed, or a person promoted it); after the last one the rollout has succeeded. */
function completeStage(rollout: RolloutRecord, actor: string): RolloutStep[] {
  const next = rollout.stage + 1;
  if (next >= rollout.plan.stages.length) {
    return [{ kind: 'succeed' }, { kind: 'record-event', actor, action: 'succeeded', detail: { version: rollout.toVersion } }];
  }
  return [
    { kind: 'advance-stage', stage: next },
    { kind: 'record-event', actor, action: 'stage-started', detail: { stage: next, name: rollout.plan.stages[next]!.name } },
  ];
}

/** Starts taking every device the rollout touched back to the old version, in the same pass. */
function rollBack(rollout: RolloutRecord, devices: RolloutDeviceView[], reason: string): RolloutStep[] {
  return [
    { kind: 'begin-rollback', reason },
    { kind: 'record-event', actor: CONTROLLER, action: 'rollback-started', detail: { reason, toVersion: rollout.fromVersion } },
    ...planRevert(rollout, devices, 'rolling_back'),
  ];
}

/** Rollbacks ignore maxUpdating: a bad model should leave every box at once. */
function planRevert(rollout: RolloutRecord, devices: RolloutDeviceView[], state: 'rolling_back' | 'aborting'): RolloutStep[] {
  const steps: RolloutStep[] = [];
  const pending = devices.filter((device) => device.state === 'pending').map(key);
  if (pending.length > 0) steps.push({ kind: 'skip-devices', devices: pending, leaveShadow: rollout.plan.gates.shadow });
  const touched = devices.filter((device) => device.state === 'updating' || device.state === 'active' || device.state === 'failed').map(key);
  if (touched.length > 0) return [...steps, { kind: 'revert-devices', devices: touched }];
  if (devices.some((device) => device.state === 'reverting')) return steps;
  const final = state === 'aborting' ? 'aborted' : 'rolled_back';
  return [
    ...steps,
    { kind: 'finish-revert', state: final },
    { kind: 'record-event', actor: CONTROLLER, action: final, detail: { version: rollout.fromVersion } },
  ];
}

function describeFailures(checks: GateCheck[]): string {
  return checks
    .filter((check) => !check.passed)
    .map((check) => `${check.gate} ${check.measured.toFixed(3)} > ${check.limit}`)
    .join(', ');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
