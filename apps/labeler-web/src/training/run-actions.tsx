import type { TrainingRunDto } from '@loupe/api-contracts';
import { useState, type FormEvent } from 'react';
import { useProblem } from '../session/use-problem';
import type { TrainingApi, TrainingDecision } from './training-api';
import { awaitsDecision, decisionText, isActive } from './training-display';
import styles from './training.module.css';

interface RunActionsProps {
  run: TrainingRunDto;
  api: TrainingApi;
  /** The run changed, or may have: load the runs again now. */
  onChanged: () => void;
  onSessionExpired: () => void;
}

const EFFECT: Record<TrainingDecision, string> = {
  approve: 'The candidate starts a canary rollout to the policy’s fleet group, with the project’s gates.',
  reject: 'The candidate stays in the registry with its report and never rolls out.',
};

/** An engineer's actions on one run: approve or reject its candidate while it waits, cancel it while it runs. */
export function RunActions({ run, api, onChanged, onSessionExpired }: RunActionsProps) {
  const [chosen, setChosen] = useState<TrainingDecision | null>(null);
  const { busy, outcome, problem, send, reset } = useRunCommand(onChanged, onSessionExpired);
  const choose = (decision: TrainingDecision | null) => {
    setChosen(decision);
    reset();
  };
  const decide = (decision: TrainingDecision, reason: string) =>
    send(api.decide(run.id, decision, reason), (updated) => {
      setChosen(null);
      return `The candidate ${updated.decision === null ? 'is decided' : decisionText(updated.decision)}.`;
    });
  return (
    <section className={styles.toolbar} aria-label="Run actions">
      {awaitsDecision(run) && (
        <>
          <button type="button" className="primary" disabled={busy} aria-pressed={chosen === 'approve'} onClick={() => choose('approve')}>
            Approve and start rollout
          </button>
          <button type="button" disabled={busy} aria-pressed={chosen === 'reject'} onClick={() => choose('reject')}>
            Reject
          </button>
        </>
      )}
      {isActive(run.state) && (
        <button type="button" disabled={busy} onClick={() => send(api.cancel(run.id), (updated) => `The run is ${updated.state}.`)}>
          Cancel run
        </button>
      )}
      {/* Hidden once the run no longer waits (decided elsewhere, or refused because it was): the cloud has the last word. */}
      {chosen && awaitsDecision(run) && <DecisionForm decision={chosen} busy={busy} onSend={(reason) => decide(chosen, reason)} onCancel={() => choose(null)} />}
      {outcome && <p role="status">{outcome}</p>}
      {problem && (
        <p className="notice error" role="alert">
          {problem}
        </p>
      )}
    </section>
  );
}

/** The decision chosen, what it will do, and the reason the audit log keeps. */
function DecisionForm({ decision, busy, onSend, onCancel }: { decision: TrainingDecision; busy: boolean; onSend: (reason: string) => void; onCancel: () => void }) {
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    onSend((event.currentTarget.elements.namedItem('reason') as HTMLInputElement).value.trim());
  };
  return (
    <form className={styles.decisionForm} onSubmit={submit}>
      <p>{EFFECT[decision]}</p>
      <label className={styles.field}>
        Reason to {decision} (kept in the audit log)
        <input name="reason" maxLength={2_000} autoFocus />
      </label>
      <div className={styles.buttons}>
        <button type="submit" disabled={busy}>
          {busy ? 'Sending…' : decision === 'approve' ? 'Approve candidate' : 'Reject candidate'}
        </button>
        <button type="button" onClick={onCancel}>
          Back
        </button>
      </div>
    </form>
  );
}

/** One command at a time: whether it is in flight, and what came of the last, in words. */
function useRunCommand(onChanged: () => void, onSessionExpired: () => void) {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<string | null>(null);
  const { problem, setProblem, fail } = useProblem(onSessionExpired);
  const reset = () => {
    setOutcome(null);
    setProblem(null);
  };
  const send = (call: Promise<TrainingRunDto>, describe: (updated: TrainingRunDto) => string) => {
    setBusy(true);
    reset();
    call
      .then((updated) => setOutcome(describe(updated)), fail)
      .finally(() => {
        setBusy(false);
        // Refused or not, the page shows where the run stands now.
        onChanged();
      });
  };
  return { busy, outcome, problem, send, reset };
}
