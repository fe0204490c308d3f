import { z } from 'zod';

// C0 and C1 control characters (Unicode category Cc), DEL, and lone UTF-16
// surrogates. Barcode readers pad fields with NUL, and Postgres refuses NUL
// in text columns outright, so a control character that gets past the edge
// of the system fails far from where it came in. Tabs and newlines are no
// exception: no id or serial has them.
// eslint-disable-next-line no-control-regex -- finding control characters is this rule's whole purpose
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/u;

/**
 * The text with each control character replaced by U+FFFD, for text that
 * must be kept (a log line, a dead letter's detail) rather than refused.
 */
export function withoutControlCharacters(value: string): string {
  return value.replace(new RegExp(UNPRINTABLE.source, 'gu'), '\uFFFD');
}

/** Where the first character that has no place in an id or serial is, if any. */
export function findControlCharacter(value: string): { index: number; codePoint: number } | undefined {
  const match = UNPRINTABLE.exec(value);
  return match ? { index: match.index, codePoint: match[0].codePointAt(0)! } : undefined;
}

/** "unit_serial has a control character (U+0000) at position 12: send printable text only" */
export function controlCharacterMessage(field: string, found: { index: number; codePoint: number }): string {
  const code = `U+${found.codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
  return `${field} has a control character (${code}) at position ${found.index}: send printable text only (barcode readers often pad with NUL; strip it)`;
}

/** A zod string of printable text: no control characters, at most `max` characters. */
export function printableText(field: string, max: number) {
  return z
    .string()
    .max(max, `${field} is longer than ${max} characters`)
    .superRefine((value, context) => {
      const found = findControlCharacter(value);
      if (found) context.addIssue({ code: 'custom', message: controlCharacterMessage(field, found) });
    });
}

/** A zod string of free text (newlines and tabs welcome) that Postgres can store: no NUL, at most `max` characters. */
export function storableText(field: string, max: number) {
  return z
    .string()
    .max(max, `${field} is longer than ${max} characters`)
    .refine((value) => !value.includes('\u0000'), `${field} holds a NUL character (U+0000), which cannot be stored: send text without it`);
}
