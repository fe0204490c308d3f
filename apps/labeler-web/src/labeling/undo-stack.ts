/**
 * The answers Z can take back on the queue screen, the latest last. It
 * keeps the last UNDO_LIMIT; the cloud takes back an answer only for
 * LABEL_LEASE after it was given (2 minutes by default) and says so when
 * one is older, so a longer stack would hold little that still works.
 */
export interface UndoStack<T> {
  readonly entries: readonly T[];
  /** Answers given on this screen, undone ones included. */
  readonly given: number;
  /** Entries pushed out by newer ones. */
  readonly dropped: number;
}

export const UNDO_LIMIT = 20;

export const emptyUndoStack = <T>(): UndoStack<T> => ({ entries: [], given: 0, dropped: 0 });

export function pushAnswer<T>(stack: UndoStack<T>, entry: T, limit = UNDO_LIMIT): UndoStack<T> {
  const entries = [...stack.entries, entry];
  const over = Math.max(0, entries.length - limit);
  return { entries: entries.slice(over), given: stack.given + 1, dropped: stack.dropped + over };
}

/** The latest entry and the stack without it; no entry when the stack is empty. */
export function popAnswer<T>(stack: UndoStack<T>): { entry: T | undefined; rest: UndoStack<T> } {
  return { entry: stack.entries.at(-1), rest: { ...stack, entries: stack.entries.slice(0, -1) } };
}

/** What Z says when there is nothing to take back, and why. */
export function nothingToUndo(stack: UndoStack<unknown>): string {
  if (stack.given === 0) return 'Nothing to undo: you have not answered a sample on this screen yet.';
  if (stack.dropped > 0) return `Nothing more to undo: Z takes back your last ${UNDO_LIMIT} answers at most.`;
  return 'Nothing more to undo: every answer you gave on this screen has been taken back.';
}
