import type { RolloutDto } from '@loupe/api-contracts';
import { localMinute } from '../models/model-display';
import { stateLabel, versionChange } from './rollout-display';
import { routeHref } from '../routes/routes';
import type { RolloutsApi } from './rollouts-api';
import { currentStageName } from './stage-rows';
import { useRollouts } from './use-rollouts';

/** Every rollout, newest first. */
export function RolloutList({ api, onSessionExpired }: { api: RolloutsApi; onSessionExpired: () => void }) {
  const rollouts = useRollouts(api, onSessionExpired);
  return (
    <main>
      <h1>Rollouts</h1>
      {rollouts.status === 'loading' && <p className="notice">Loading rollouts…</p>}
      {rollouts.status !== 'loading' && rollouts.problem !== null && (
        <p className="notice error" role="alert">
          {rollouts.problem} Retrying…
        </p>
      )}
      {rollouts.status === 'loaded' &&
        (rollouts.value.length === 0 ? (
          <p className="notice">
            No rollouts yet: start one with <code>npx loupe rollout start</code>
          </p>
        ) : (
          <RolloutTable rollouts={rollouts.value} />
        ))}
    </main>
  );
}

function RolloutTable({ rollouts }: { rollouts: readonly RolloutDto[] }) {
  return (
    <table>
      <thead>
        <tr>
          <th>Model</th>
          <th>Versions</th>
          <th>Group</th>
          <th>State</th>
          <th>Stage</th>
          <th>Updated</th>
        </tr>
      </thead>
      <tbody>
        {rollouts.map((rollout) => (
          <tr key={rollout.id}>
            <td>
              <a href={routeHref('rollouts', rollout.id)}>{rollout.modelName}</a>
            </td>
            <td className="numeric">{versionChange(rollout)}</td>
            <td>{rollout.fleetGroup}</td>
            <td>
              <span className={`state ${rollout.state}`}>{stateLabel(rollout.state)}</span>
            </td>
            <td>{currentStageName(rollout)}</td>
            <td className="numeric">
              <time dateTime={rollout.updatedAt} title={rollout.updatedAt}>
                {localMinute(rollout.updatedAt)}
              </time>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
