import { describe, expect, it } from 'vitest';
import { emptyUndoStack, nothingToUndo, popAnswer, pushAnswer, UNDO_LIMIT } from './undo-stack';

describe('the undo stack', () => {
  it('takes answers back latest first', () => {
    let stack = pushAnswer(pushAnswer(emptyUndoStack<string>(), 'a'), 'b');
    const first = popAnswer(stack);
    expect(first.entry).toBe('b');
    stack = first.rest;
    const second = popAnswer(stack);
    expect(second.entry).toBe('a');
    expect(popAnswer(second.rest).entry).toBeUndefined();
  });

  it('keeps the latest answers up to its limit', () => {
    let stack = emptyUndoStack<number>();
    for (let answer = 1; answer <= UNDO_LIMIT + 5; answer++) stack = pushAnswer(stack, answer);
    expect(stack.entries).toHaveLength(UNDO_LIMIT);
    expect(stack.entries[0]).toBe(6);
    expect(stack).toMatchObject({ given: UNDO_LIMIT + 5, dropped: 5 });
  });

  it('says why there is nothing to undo: no answer yet, all taken back, or older than the stack keeps', () => {
    const none = emptyUndoStack<string>();
    expect(nothingToUndo(none)).toBe('Nothing to undo: you have not answered a sample on this screen yet.');
    const allBack = popAnswer(pushAnswer(none, 'a')).rest;
    expect(nothingToUndo(allBack)).toBe('Nothing more to undo: every answer you gave on this screen has been taken back.');
    let long = none;
    for (let answer = 0; answer <= UNDO_LIMIT; answer++) long = pushAnswer(long, 'x');
    while (long.entries.length > 0) long = popAnswer(long).rest;
    expect(nothingToUndo(long)).toBe(`Nothing more to undo: Z takes back your last ${UNDO_LIMIT} answers at most.`);
  });
});
