import { describe, expect, it } from 'vitest';
import { answerText } from './answer-text';

describe('answerText', () => {
  it('names the class, or counts the boxes', () => {
    const box = { className: 'bridge', x: 0, y: 0, width: 1, height: 1 };
    expect(answerText({ className: 'Defective' })).toBe('Defective');
    expect(answerText({ boxes: [] })).toBe('no boxes');
    expect(answerText({ boxes: [box] })).toBe('1 box');
    expect(answerText({ boxes: [box, box] })).toBe('2 boxes');
  });
});
