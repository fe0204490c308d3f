import { describe, expect, it } from 'vitest';
import { boxKey } from './box-keys';

const CLASSES = ['bridge', 'missing'];

describe('box keys', () => {
  it('chooses the class with 1-9 and steps through boxes with N and Shift+N', () => {
    expect(boxKey('2', false, CLASSES, false)).toEqual({ kind: 'chooseClass', className: 'missing' });
    expect(boxKey('3', false, CLASSES, true)).toBeUndefined();
    expect(boxKey('n', false, CLASSES, false)).toEqual({ kind: 'selectNext', step: 1 });
    expect(boxKey('N', true, CLASSES, true)).toEqual({ kind: 'selectNext', step: -1 });
    expect(boxKey('Enter', false, CLASSES, false)).toEqual({ kind: 'submit' });
  });

  it('deletes, lets go of and nudges the selected box, and leaves those keys alone without one', () => {
    expect(boxKey('Delete', false, CLASSES, true)).toEqual({ kind: 'delete' });
    expect(boxKey('Backspace', false, CLASSES, true)).toEqual({ kind: 'delete' });
    expect(boxKey('Escape', false, CLASSES, true)).toEqual({ kind: 'deselect' });
    expect(boxKey('ArrowLeft', false, CLASSES, true)).toEqual({ kind: 'nudge', dx: -1, dy: 0 });
    expect(boxKey('ArrowDown', true, CLASSES, true)).toEqual({ kind: 'nudge', dx: 0, dy: 10 });
    for (const key of ['Delete', 'Escape', 'ArrowLeft', 'ArrowUp']) expect(boxKey(key, false, CLASSES, false)).toBeUndefined();
  });

  it('leaves skip, undo and the viewer keys to the screen', () => {
    for (const key of ['s', 'z', '+', '0', 'b', 'p']) expect(boxKey(key, false, CLASSES, true)).toBeUndefined();
  });
});
