import type { ModelVersionDto } from '@loupe/api-contracts';
import { useEffect, useState } from 'react';
import { useProblem } from '../session/use-problem';
import type { AliasMove, ModelsApi, ModelSummary } from './models-api';

export interface ModelDetails {
  latest: ModelVersionDto;
  moves: AliasMove[];
}

/** The model's latest version and its alias history, loaded together: the screen shows both or neither. */
export function useModelDetails(api: ModelsApi, model: ModelSummary, onSessionExpired: () => void) {
  const [details, setDetails] = useState<ModelDetails | null>(null);
  const { problem, setProblem, fail } = useProblem(onSessionExpired);
  const { modelName, latestVersion } = model;
  useEffect(() => {
    // A slow answer for the model picked before must not fill in the one picked now.
    let current = true;
    setDetails(null);
    setProblem(null);
    Promise.all([api.version(modelName, latestVersion), api.aliasHistory(modelName)]).then(
      ([latest, moves]) => {
        if (current) setDetails({ latest, moves });
      },
      (error: unknown) => {
        if (current) fail(error);
      },
    );
    return () => {
      current = false;
    };
  }, [api, modelName, latestVersion, fail, setProblem]);
  return { details, problem };
}
