import type { RolloutDetailDto } from '@loupe/api-contracts';
import { localMinute } from '../models/model-display';
import { AuditLogTable } from './audit-log-table';
import { CohortComparison } from './cohort-comparison';
import { isLive } from './rollout-commands';
import { RolloutCommandBar } from './rollout-command-bar';
import { stateLabel, versionChange } from './rollout-display';
import { RolloutDevicesTable } from './rollout-devices-table';
import type { RolloutsApi } from './rollouts-api';
import { StageList } from './stage-list';
import { useRollout } from './use-rollouts';

interface RolloutDetailsProps {
  api: RolloutsApi;
  rolloutId: string;
  onSessionExpired: () => void;
}

/** One rollout: where it stands, its stages, both cohorts side by side, its devices and its audit log. */
export function RolloutDetailsView({ api, rolloutId, onSessionExpired }: RolloutDetailsProps) {
  const { state: rollout, refresh } = useRollout(api, rolloutId, onSessionExpired);
  return (
    <main className="rollout">
      <h1>
        Rollout {rollout.status === 'loaded' ? `${rollout.value.modelName} ${versionChange(rollout.value)}` : rolloutId} <a href="#/rollouts">All rollouts</a>
      </h1>
      {rollout.status === 'loading' && <p className="notice">Loading the rollout…</p>}
      {rollout.status !== 'loading' && rollout.problem !== null && (
        <p className="notice error" role="alert">
          {rollout.problem} {rollout.status === 'loaded' ? 'Showing the rollout as last loaded; retrying…' : 'Retrying…'}
        </p>
      )}
      {rollout.status === 'loaded' && (
        <RolloutBody rollout={rollout.value} api={api} onChanged={refresh} onSessionExpired={onSessionExpired} />
      )}
    </main>
  );
}

interface RolloutBodyProps {
  rollout: RolloutDetailDto;
  api: RolloutsApi;
  onChanged: () => void;
  onSessionExpired: () => void;
}

function RolloutBody({ rollout, api, onChanged, onSessionExpired }: RolloutBodyProps) {
  return (
    <>
      <p className="rollout-state">
        <span className={`state ${rollout.state}`}>{stateLabel(rollout.state)}</span> · fleet group {rollout.fleetGroup} · started{' '}
        <time dateTime={rollout.createdAt} title={rollout.createdAt}>
          {localMinute(rollout.createdAt)}
        </time>
        {isLive(rollout.state) && ' · refreshed every few seconds'}
      </p>
      {rollout.reason !== '' && <p className="notice">Why: {rollout.reason}</p>}
      <RolloutCommandBar rollout={rollout} api={api} onChanged={onChanged} onSessionExpired={onSessionExpired} />
      <h2>Stages</h2>
      <StageList rollout={rollout} />
      <h2>Gates of the current stage</h2>
      <CohortComparison rollout={rollout} />
      <h2>Devices</h2>
      <RolloutDevicesTable rollout={rollout} />
      <h2>Audit log</h2>
      <AuditLogTable events={rollout.events} />
    </>
  );
}
