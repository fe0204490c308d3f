export {
  InvalidDesiredStateError,
  type DeployableModel,
  type DesiredModel,
  type PackageRef,
  type PackageSignature,
  type ShadowModel,
} from './desired-state';
export { desiredStateToWire, parseDesiredState } from './desired-state.wire';
export { CONFIDENCE_BINS, confidenceBin, modelStatsFromWire, modelStatsToWire, type ModelCounters, type ModelStatistics } from './model-stats';
export {
  describeModel,
  MODEL_NAME_MAX_LENGTH,
  MODEL_NAME_PATTERN,
  MODEL_NAME_RULE,
  modelNameSchema,
  modelVersionSchema,
  sameModel,
  sha256HexSchema,
  type ModelVersion,
} from './model-version';
export { decodeReportedState, InvalidReportedStateError, reportedStateSchema, MAX_REPORTED_ERROR_LENGTH, reportedStateToWire, type ReportedModelState } from './reported-state';
export {
  FAILED_UPDATE_STATUSES,
  UPDATE_STATUS_NAMES,
  UPDATE_STATUSES,
  updateStatusFromWire,
  updateStatusName,
  updateStatusToWire,
  type UpdateStatus,
  type UpdateStatusName,
} from './update-status';
