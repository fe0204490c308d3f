import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { controlCharacterMessage, findControlCharacter, printableText, withoutControlCharacters } from './text-fields';

describe('printable text fields', () => {
  it('finds NUL padding, DEL, C1 controls and lone surrogates, and names where', () => {
    expect(findControlCharacter('SN-0042\u0000\u0000')).toEqual({ index: 7, codePoint: 0 });
    expect(findControlCharacter('a\u007f')).toEqual({ index: 1, codePoint: 0x7f });
    expect(findControlCharacter('\u0085x')).toEqual({ index: 0, codePoint: 0x85 });
    expect(findControlCharacter('ab\ud800')).toEqual({ index: 2, codePoint: 0xd800 });
    expect(findControlCharacter('\udc00')).toEqual({ index: 0, codePoint: 0xdc00 });
    expect(controlCharacterMessage('unit_serial', { index: 7, codePoint: 0 })).toMatch(/^unit_serial has a control character \(U\+0000\) at position 7/);
  });

  it('accepts any printable text, letters beyond ASCII and emoji included', () => {
    // eslint-disable-next-line no-control-regex -- the generator must leave control characters out
    const printable = fc.string({ unit: 'grapheme' }).filter((value) => !/[\u0000-\u001f\u007f-\u009f]/.test(value));
    fc.assert(fc.property(printable, (value) => findControlCharacter(value) === undefined));
  });

  it('refuses every string with a control character in it, wherever it is', () => {
    const control = fc.integer({ min: 0, max: 0x9f }).filter((code) => code < 0x20 || code >= 0x7f).map((code) => String.fromCharCode(code));
    fc.assert(
      fc.property(fc.string(), control, fc.string(), (before, bad, after) => {
        const result = printableText('unit_serial', 10_000).safeParse(before + bad + after);
        return !result.success && result.error.issues[0]!.message.includes('control character');
      }),
    );
  });

  it('states the length limit', () => {
    expect(printableText('station_id', 3).safeParse('abcd').error?.issues[0]?.message).toBe('station_id is longer than 3 characters');
  });

  it('replaces every control character with U+FFFD where text must be kept, leaving nothing the rule refuses', () => {
    expect(withoutControlCharacters('SN\u0000\u0000-1\ud800')).toBe('SN\uFFFD\uFFFD-1\uFFFD');
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (value) => findControlCharacter(withoutControlCharacters(value)) === undefined));
  });
});
