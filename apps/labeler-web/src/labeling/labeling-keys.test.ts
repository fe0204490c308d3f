import { describe, expect, it } from 'vitest';
import { classAtKey, queueKey } from './labeling-keys';

describe('queue keys', () => {
  const classes = ['ok', 'scratch', 'void'];

  it('answers with the class at the key number, skips on S and undoes on Z', () => {
    expect(queueKey('2', classes)).toEqual({ kind: 'answer', className: 'scratch' });
    expect(queueKey('s', classes)).toEqual({ kind: 'skip' });
    expect(queueKey('S', classes)).toEqual({ kind: 'skip' });
    expect(queueKey('z', classes)).toEqual({ kind: 'undo' });
    expect(queueKey('Z', classes)).toEqual({ kind: 'undo' });
  });

  it('ignores numbers past the last class and every other key', () => {
    expect(queueKey('4', classes)).toBeUndefined();
    expect(queueKey('0', classes)).toBeUndefined();
    expect(queueKey('Enter', classes)).toBeUndefined();
  });
});

describe('class keys, as the review screen reads them', () => {
  it("names the project's class at keys 1-9 and nothing for other keys", () => {
    const classes = ['Normal', 'Defective'];
    expect(classAtKey('1', classes)).toBe('Normal');
    expect(classAtKey('2', classes)).toBe('Defective');
    expect(classAtKey('3', classes)).toBeUndefined();
    expect(classAtKey('s', classes)).toBeUndefined();
    expect(classAtKey('12', classes)).toBeUndefined();
  });
});
