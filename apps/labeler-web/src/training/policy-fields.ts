import { trainingPolicySchema, type TrainingPolicyDto } from '@loupe/api-contracts';

/** The policy form's fields as typed: text, because a person may leave one empty or type something else. */
export interface PolicyFields {
  /** In points of macro-F1 (1 = 0.01), the unit people compare scores in. */
  marginPoints: string;
  promotion: string;
  /** Empty: never on label count. */
  everyNewLabels: string;
  /** Empty: never on a schedule. */
  everyHours: string;
  fleetGroup: string;
  /** Not on the form: kept as it stands, so saving the form never drops a plan set through the API. */
  rolloutPlan?: TrainingPolicyDto['rolloutPlan'];
}

export type PolicyParse = { ok: true; policy: TrainingPolicyDto } | { ok: false; problems: string[] };

/** The form as a policy stands. */
export function fieldsOf(policy: TrainingPolicyDto): PolicyFields {
  return {
    // toPrecision: 0.07 * 100 is 7.000000000000001 in floating point.
    marginPoints: String(Number((policy.margin * 100).toPrecision(10))),
    promotion: policy.promotion,
    everyNewLabels: policy.everyNewLabels === null ? '' : String(policy.everyNewLabels),
    everyHours: policy.everyHours === null ? '' : String(policy.everyHours),
    fleetGroup: policy.fleetGroup,
    rolloutPlan: policy.rolloutPlan,
  };
}

const FIELD_NAMES: Record<keyof TrainingPolicyDto, string> = {
  margin: 'Margin',
  promotion: 'Promotion',
  everyNewLabels: 'Every N new labels',
  everyHours: 'Every H hours',
  fleetGroup: 'Fleet group',
  rolloutPlan: 'Rollout plan',
};

/**
 * The policy the form describes, checked by the shared contract so the page
 * names a bad field before the cloud has to; each problem names its field.
 */
export function policyOf(fields: PolicyFields): PolicyParse {
  const margin = numberOrNaN(fields.marginPoints);
  const candidate = {
    margin: Number.isNaN(margin) ? margin : Number((margin / 100).toPrecision(10)),
    promotion: fields.promotion,
    everyNewLabels: fields.everyNewLabels.trim() === '' ? null : numberOrNaN(fields.everyNewLabels),
    everyHours: fields.everyHours.trim() === '' ? null : numberOrNaN(fields.everyHours),
    fleetGroup: fields.fleetGroup.trim(),
    rolloutPlan: fields.rolloutPlan,
  };
  const parsed = trainingPolicySchema.safeParse(candidate);
  if (parsed.success) return { ok: true, policy: parsed.data };
  const problems = parsed.error.issues.map((issue) => {
    const field = FIELD_NAMES[issue.path[0] as keyof TrainingPolicyDto] ?? String(issue.path[0]);
    return `${field}: ${issue.message}`;
  });
  return { ok: false, problems };
}

/** A typed number; NaN (which the contract refuses, naming the field) for anything else. */
function numberOrNaN(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? Number.NaN : Number(trimmed);
}
