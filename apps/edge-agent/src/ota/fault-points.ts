import { writeSync } from 'node:fs';
import type { UpdateStep } from '@loupe/ota';

/**
 * The moments of an update where the agent can be made to die, for the
 * SIGKILL test (OTA_TEST_KILL_AT, a test-only setting): after every step
 * the planner (libs/edge/ota) can plan, and inside the executors between two
 * changes that each reach the disk. A box must come back serving a verified
 * model from every one of them.
 */
export const OTA_FAULT_POINTS = [
  'download:receiving',
  'download:bytes-synced',
  'after:download',
  'verify:unpacked',
  'after:verify',
  'stage:moved',
  'after:stage',
  'warm-up:recorded',
  'after:warm-up',
  'after:self-test',
  'activate:recorded',
  'activate:serving',
  'after:activate',
  'roll-back:recorded',
  'after:roll-back',
  'fail:recorded',
] as const;

export type OtaFaultPoint = (typeof OTA_FAULT_POINTS)[number];

/** The point after each step kind the planner plans; the Record type keeps it complete when a kind is added. */
export const AFTER_STEP: Record<Exclude<UpdateStep['kind'], 'nothing'>, OtaFaultPoint> = {
  download: 'after:download',
  verify: 'after:verify',
  stage: 'after:stage',
  'warm-up': 'after:warm-up',
  'self-test': 'after:self-test',
  activate: 'after:activate',
  'roll-back': 'after:roll-back',
};

export function isOtaFaultPoint(value: string): value is OtaFaultPoint {
  return (OTA_FAULT_POINTS as readonly string[]).includes(value);
}

/** Where the update code says it has reached a fault point. */
export interface FaultPoints {
  reached(point: OtaFaultPoint): void;
}

/** Production: fault points are only names. */
export const NO_FAULT_POINTS: FaultPoints = { reached: () => undefined };

/**
 * Test-only: the process SIGKILLs itself when `point` is reached, after one
 * line on stderr saying so (written synchronously, so it is out before the
 * process is gone). SIGKILL cannot be caught: nothing is flushed or closed,
 * as when the power goes.
 */
export function killingAt(point: OtaFaultPoint): FaultPoints {
  return {
    reached: (reached) => {
      if (reached !== point) return;
      writeSync(2, `${JSON.stringify({ level: 'warn', faultPoint: point, msg: 'OTA_TEST_KILL_AT reached; the agent kills itself' })}\n`);
      process.kill(process.pid, 'SIGKILL');
    },
  };
}
