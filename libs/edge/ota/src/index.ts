export { planShadow, type ShadowNothingReason, type ShadowState, type ShadowStep } from './shadow-plan';
export {
  lastFailureOf,
  planUpdate,
  UPDATE_STEPS,
  withFailure,
  type BoxState,
  type NothingReason,
  type Probation,
  type UpdateFailure,
  type UpdateStep,
  type UpdateStepKind,
  type UpdateStepName,
} from './update-plan';
export { probationVerdict, type ProbationBudget, type ProbationRollbackReason, type ProbationStats, type ProbationVerdict } from './probation-verdict';
