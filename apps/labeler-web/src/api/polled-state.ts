/** What a screen that polls the cloud knows. `problem` is the latest failure, for the person looking. */
export type PolledState<T> =
  | { status: 'loading' }
  | { status: 'failed'; problem: string }
  /** `problem` set: the last poll failed and `value` is from an earlier one. */
  | { status: 'loaded'; value: T; problem: string | null };

export type PollEvent<T> = { type: 'received'; value: T } | { type: 'failed'; problem: string };

export const initialPolledState = { status: 'loading' } as const;

export function nextPolledState<T>(state: PolledState<T>, event: PollEvent<T>): PolledState<T> {
  switch (event.type) {
    case 'received':
      return { status: 'loaded', value: event.value, problem: null };
    case 'failed':
      // A failed poll keeps what was loaded before: an answer a few seconds
      // old, marked as such, beats an empty page.
      return state.status === 'loaded' ? { ...state, problem: event.problem } : { status: 'failed', problem: event.problem };
  }
}
