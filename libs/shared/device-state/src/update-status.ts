import { ModelUpdateStatus } from '@loupe/proto';

/** Where a box stands with its desired model, as it says so in ReportedState. */
export const UPDATE_STATUSES = ['idle', 'downloading', 'verifying', 'warming-up', 'self-testing', 'active', 'rolled-back', 'failed'] as const;
export type UpdateStatus = (typeof UPDATE_STATUSES)[number];

const TO_WIRE: Record<UpdateStatus, ModelUpdateStatus> = {
  idle: ModelUpdateStatus.MODEL_UPDATE_STATUS_IDLE,
  downloading: ModelUpdateStatus.MODEL_UPDATE_STATUS_DOWNLOADING,
  verifying: ModelUpdateStatus.MODEL_UPDATE_STATUS_VERIFYING,
  'warming-up': ModelUpdateStatus.MODEL_UPDATE_STATUS_WARMING_UP,
  'self-testing': ModelUpdateStatus.MODEL_UPDATE_STATUS_SELF_TESTING,
  active: ModelUpdateStatus.MODEL_UPDATE_STATUS_ACTIVE,
  'rolled-back': ModelUpdateStatus.MODEL_UPDATE_STATUS_ROLLED_BACK,
  failed: ModelUpdateStatus.MODEL_UPDATE_STATUS_FAILED,
};

/**
 * The status as the cloud stores it in device_model_states.reported and
 * serves it to the fleet page: the proto enum's name without its prefix.
 * Rows and the web app already hold these, so they stay; this table is the
 * only place that spells them.
 */
export const UPDATE_STATUS_NAMES = {
  idle: 'IDLE',
  downloading: 'DOWNLOADING',
  verifying: 'VERIFYING',
  'warming-up': 'WARMING_UP',
  'self-testing': 'SELF_TESTING',
  active: 'ACTIVE',
  'rolled-back': 'ROLLED_BACK',
  failed: 'FAILED',
} as const satisfies Record<UpdateStatus, string>;
export type UpdateStatusName = (typeof UPDATE_STATUS_NAMES)[UpdateStatus];

/** Statuses that say the last update did not go through: the box kept or went back to its old model. */
export const FAILED_UPDATE_STATUSES: readonly UpdateStatus[] = ['failed', 'rolled-back'];

export function updateStatusToWire(status: UpdateStatus): ModelUpdateStatus {
  return TO_WIRE[status];
}

/** Undefined for UNSPECIFIED and for values this release does not know. */
export function updateStatusFromWire(status: ModelUpdateStatus): UpdateStatus | undefined {
  return UPDATE_STATUSES.find((candidate) => TO_WIRE[candidate] === status);
}

export function updateStatusName(status: UpdateStatus): UpdateStatusName {
  return UPDATE_STATUS_NAMES[status];
}
