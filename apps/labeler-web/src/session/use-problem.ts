import { useCallback, useState } from 'react';
import { SessionExpiredError } from '../api/cloud-api';

/**
 * What a screen says about its last failed call. A lapsed session is not a
 * message: `onSessionExpired` sends the person back to sign in.
 */
export function useProblem(onSessionExpired: () => void) {
  const [problem, setProblem] = useState<string | null>(null);
  const fail = useCallback(
    (error: unknown) => {
      if (error instanceof SessionExpiredError) onSessionExpired();
      else setProblem(error instanceof Error ? error.message : String(error));
    },
    [onSessionExpired],
  );
  return { problem, setProblem, fail };
}
