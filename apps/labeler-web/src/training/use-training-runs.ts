import type { TrainingRunDto } from '@loupe/api-contracts';
import { useCallback } from 'react';
import { usePolled } from '../api/use-polled';
import type { TrainingApi } from './training-api';
import { isActive } from './training-display';

const anyActive = (runs: readonly TrainingRunDto[]) => runs.some((run) => isActive(run.state));

/** A project's runs, asked again while one is queued or running; `refresh` after starting or deciding one. */
export function useTrainingRuns(api: TrainingApi, projectId: string, onSessionExpired: () => void) {
  const load = useCallback(() => api.runs(projectId), [api, projectId]);
  return usePolled({ load, keepPolling: anyActive, onSessionExpired });
}
