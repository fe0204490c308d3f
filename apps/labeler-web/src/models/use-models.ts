import { useEffect, useState } from 'react';
import { useProblem } from '../session/use-problem';
import type { ModelsApi, ModelSummary } from './models-api';

/** Every model in the registry, loaded once when the screen opens. */
export function useModels(api: ModelsApi, onSessionExpired: () => void) {
  const [models, setModels] = useState<ModelSummary[] | null>(null);
  const { problem, fail } = useProblem(onSessionExpired);
  useEffect(() => {
    api.list().then(setModels, fail);
  }, [api, fail]);
  return { models, problem };
}
