import { useCallback, useState } from 'react';

/** What the last action did, for the person: `done` when it landed, `info` when nothing happened and why. */
export interface Confirmation {
  /** Grows with every confirmation, so the same words twice still show (and are announced) twice. */
  id: number;
  tone: 'done' | 'info';
  text: string;
}

export function useConfirmation() {
  const [confirmation, setConfirmation] = useState<Confirmation | null>(null);
  const confirm = useCallback(
    (text: string, tone: Confirmation['tone'] = 'done') => setConfirmation((shown) => ({ id: (shown?.id ?? 0) + 1, tone, text })),
    [],
  );
  return { confirmation, confirm };
}
