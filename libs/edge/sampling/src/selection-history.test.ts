import { describe, expect, it } from 'vitest';
import { SelectionHistory } from './selection-history';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('SelectionHistory', () => {
  it('counts a selection for 60 minutes in the last hour', () => {
    const history = new SelectionHistory();
    history.record({ at: 0, className: 'reject', bytes: 10 });
    history.record({ at: 30 * MINUTE, className: 'pass', bytes: 10 });
    expect(history.lastHour(HOUR - 1).map(({ className }) => className)).toEqual(['reject', 'pass']);
    expect(history.lastHour(HOUR).map(({ className }) => className)).toEqual(['pass']);
    expect(history.lastHour(90 * MINUTE)).toEqual([]);
  });

  it('counts bytes for 24 hours', () => {
    const history = new SelectionHistory();
    history.record({ at: 0, className: 'reject', bytes: 300 });
    history.record({ at: 12 * HOUR, className: 'reject', bytes: 200 });
    expect(history.bytesLastDay(24 * HOUR - 1)).toBe(500);
    expect(history.bytesLastDay(24 * HOUR)).toBe(200);
    expect(history.bytesLastDay(36 * HOUR)).toBe(0);
  });
});
