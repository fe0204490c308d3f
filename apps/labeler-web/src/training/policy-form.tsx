import type { TrainingPolicyDto } from '@loupe/api-contracts';
import { useEffect, useState, type FormEvent } from 'react';
import { useProblem } from '../session/use-problem';
import { fieldsOf, policyOf, type PolicyFields } from './policy-fields';
import type { TrainingApi } from './training-api';
import styles from './training.module.css';

interface PolicyFormProps {
  api: TrainingApi;
  projectId: string;
  onSessionExpired: () => void;
}

/** The project's promotion policy and training triggers, for engineers to change. */
export function PolicyForm({ api, projectId, onSessionExpired }: PolicyFormProps) {
  const [fields, setFields] = useState<PolicyFields | null>(null);
  const [saving, setSaving] = useState(false);
  const [outcome, setOutcome] = useState<string | null>(null);
  const { problem, setProblem, fail } = useProblem(onSessionExpired);

  useEffect(() => {
    let current = true;
    api.policy(projectId).then((policy) => current && setFields(fieldsOf(policy)), fail);
    return () => {
      current = false;
    };
  }, [api, projectId, fail]);

  const save = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (fields === null) return;
    setOutcome(null);
    const parsed = policyOf(fields);
    if (!parsed.ok) return setProblem(parsed.problems.join(' '));
    setProblem(null);
    setSaving(true);
    api
      .savePolicy(projectId, parsed.policy)
      .then((saved: TrainingPolicyDto) => {
        setFields(fieldsOf(saved));
        setOutcome('Policy saved.');
      }, fail)
      .finally(() => setSaving(false));
  };

  if (fields === null) return problem ? <Problem text={problem} /> : <p className="notice">Loading the policy…</p>;
  const set = (name: keyof PolicyFields) => (event: { currentTarget: { value: string } }) => setFields({ ...fields, [name]: event.currentTarget.value });
  return (
    <form className={styles.policyForm} onSubmit={save} aria-label="Promotion policy" noValidate>
      <PolicyInputs fields={fields} set={set} />
      <div className={styles.buttons}>
        <button type="submit" disabled={saving}>
          {saving ? 'Saving…' : 'Save policy'}
        </button>
      </div>
      {outcome && <p role="status">{outcome}</p>}
      {problem && <Problem text={problem} />}
    </form>
  );
}

type Setter = (name: keyof PolicyFields) => (event: { currentTarget: { value: string } }) => void;

function PolicyInputs({ fields, set }: { fields: PolicyFields; set: Setter }) {
  return (
    <>
      <label className={styles.field}>
        Margin (points of macro-F1)
        <span className={styles.hint}>The candidate must beat the model serving now by this much on the same test split.</span>
        <input name="margin" inputMode="decimal" value={fields.marginPoints} onChange={set('marginPoints')} />
      </label>
      <fieldset>
        <legend>When a candidate wins</legend>
        <label className={styles.choice}>
          <input type="radio" name="promotion" value="approval" checked={fields.promotion === 'approval'} onChange={set('promotion')} />
          An engineer approves its rollout
        </label>
        <label className={styles.choice}>
          <input type="radio" name="promotion" value="auto-rollout" checked={fields.promotion === 'auto-rollout'} onChange={set('promotion')} />
          Start a canary rollout at once
        </label>
      </fieldset>
      <label className={styles.field}>
        Train after every N new labels
        <span className={styles.hint}>Empty: not on label count.</span>
        <input name="everyNewLabels" inputMode="numeric" value={fields.everyNewLabels} onChange={set('everyNewLabels')} />
      </label>
      <label className={styles.field}>
        Train every H hours when labels changed
        <span className={styles.hint}>Empty: not on a schedule. At least 0.25.</span>
        <input name="everyHours" inputMode="decimal" value={fields.everyHours} onChange={set('everyHours')} />
      </label>
      <label className={styles.field}>
        Fleet group
        <span className={styles.hint}>Where a promoted candidate rolls out.</span>
        <input name="fleetGroup" value={fields.fleetGroup} onChange={set('fleetGroup')} />
      </label>
    </>
  );
}

function Problem({ text }: { text: string }) {
  return (
    <p className="notice error" role="alert">
      {text}
    </p>
  );
}
