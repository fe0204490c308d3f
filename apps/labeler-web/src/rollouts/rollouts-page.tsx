import { useMemo } from 'react';
import { RolloutDetailsView } from './rollout-details';
import { RolloutList } from './rollout-list';
import { RolloutsApi } from './rollouts-api';
import './rollouts.css';

/** Staged model rollouts: the list, or the one the address selects (`#/rollouts/<id>`). */
export function RolloutsPage({ rolloutId, onSessionExpired }: { rolloutId: string | null; onSessionExpired: () => void }) {
  const api = useMemo(() => new RolloutsApi(fetch), []);
  // Keyed, so another rollout starts from "loading" rather than showing the last one's numbers.
  if (rolloutId !== null) return <RolloutDetailsView key={rolloutId} api={api} rolloutId={rolloutId} onSessionExpired={onSessionExpired} />;
  return <RolloutList api={api} onSessionExpired={onSessionExpired} />;
}
