import type { RolloutDetailDto } from '@loupe/api-contracts';
import { useState, type FormEvent } from 'react';
import { useProblem } from '../session/use-problem';
import { allowsCommand, commandEffect, ROLLOUT_COMMANDS, type RolloutCommand } from './rollout-commands';
import { stateLabel } from './rollout-display';
import { RolloutCommandRefusedError, type RolloutsApi } from './rollouts-api';

interface CommandBarProps {
  rollout: RolloutDetailDto;
  api: RolloutsApi;
  /** The rollout changed, or may have: load it again now. */
  onChanged: () => void;
  onSessionExpired: () => void;
}

const TITLE: Record<RolloutCommand, string> = { pause: 'Pause', resume: 'Resume', abort: 'Abort', promote: 'Promote' };

/** Pause, resume, abort and promote, each asking for the reason the audit log keeps. */
export function RolloutCommandBar({ rollout, api, onChanged, onSessionExpired }: CommandBarProps) {
  const commands = useRolloutCommands(rollout, api, onChanged, onSessionExpired);
  const { chosen, busy, outcome, problem, choose } = commands;
  return (
    <section className="commands" aria-label="Commands">
      {ROLLOUT_COMMANDS.map((command) => {
        const allowed = allowsCommand(rollout.state, command);
        return (
          <button
            key={command}
            type="button"
            disabled={!allowed || busy}
            title={allowed ? commandEffect(command, rollout) : `Not while the rollout is ${stateLabel(rollout.state)}.`}
            aria-pressed={chosen === command}
            onClick={() => choose(command)}
          >
            {TITLE[command]}
          </button>
        );
      })}
      {/* The form stays while the person writes, even if a poll changes the state: the cloud has the last word. */}
      {chosen && <ReasonForm command={chosen} rollout={rollout} busy={busy} onSend={(reason) => commands.send(chosen, reason)} onCancel={() => choose(null)} />}
      {outcome && <p role="status">{outcome}</p>}
      {problem && (
        <p className="notice error" role="alert">
          {problem}
        </p>
      )}
    </section>
  );
}

/** The command chosen, what it will do, and the reason for it, asked for before it is sent. */
function ReasonForm({ command, rollout, busy, onSend, onCancel }: { command: RolloutCommand; rollout: RolloutDetailDto; busy: boolean; onSend: (reason: string) => void; onCancel: () => void }) {
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    onSend((event.currentTarget.elements.namedItem('reason') as HTMLInputElement).value.trim());
  };
  return (
    <form className="command-form" onSubmit={submit}>
      <p>{commandEffect(command, rollout)}</p>
      <label>
        Reason for {command} (kept in the audit log) <input name="reason" required maxLength={2_000} autoFocus />
      </label>
      <button type="submit" disabled={busy}>
        {busy ? 'Sending…' : `${TITLE[command]} rollout`}
      </button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </form>
  );
}

/** The command being written, the one being sent, and what came of the last. */
function useRolloutCommands(rollout: RolloutDetailDto, api: RolloutsApi, onChanged: () => void, onSessionExpired: () => void) {
  const [chosen, setChosen] = useState<RolloutCommand | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<string | null>(null);
  const { problem, setProblem, fail } = useProblem(onSessionExpired);

  const choose = (command: RolloutCommand | null) => {
    setChosen(command);
    setProblem(null);
    setOutcome(null);
  };

  const send = (command: RolloutCommand, reason: string) => {
    setBusy(true);
    api
      .command(rollout.id, command, reason)
      .then(
        (updated) => {
          setChosen(null);
          setOutcome(`${TITLE[command]}: the rollout is ${stateLabel(updated.state)}.`);
        },
        (error: unknown) => {
          fail(error);
          // Refused because the state moved on since the page looked: show where it is now.
          if (error instanceof RolloutCommandRefusedError) setChosen(null);
        },
      )
      .finally(() => {
        setBusy(false);
        onChanged();
      });
  };

  return { chosen, busy, outcome, problem, choose, send };
}
