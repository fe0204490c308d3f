import type { RolloutDetailDto, RolloutDto } from '@loupe/api-contracts';
import { useCallback } from 'react';
import { usePolled } from '../api/use-polled';
import { isLive } from './rollout-commands';
import type { RolloutsApi } from './rollouts-api';

const anyLive = (rollouts: readonly RolloutDto[]) => rollouts.some((rollout) => isLive(rollout.state));
const live = (rollout: RolloutDetailDto) => isLive(rollout.state);

/** Every rollout, asked again while one of them is still moving. */
export function useRollouts(api: RolloutsApi, onSessionExpired: () => void) {
  const load = useCallback(() => api.list(), [api]);
  return usePolled({ load, keepPolling: anyLive, onSessionExpired }).state;
}

/** One rollout in full, asked again while it is live; `refresh` after a command. */
export function useRollout(api: RolloutsApi, rolloutId: string, onSessionExpired: () => void) {
  const load = useCallback(() => api.detail(rolloutId), [api, rolloutId]);
  return usePolled({ load, keepPolling: live, onSessionExpired });
}
