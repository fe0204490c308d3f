import { describe, expect, it } from 'vitest';
import { formatLogLine } from './log-lines';

describe('formatLogLine', () => {
  it('renders a pino line as time, level, source, message and fields', () => {
    const line = JSON.stringify({
      level: 'info',
      time: '2026-11-22T10:41:25.646Z',
      app: 'cloud',
      component: 'mqtt-link',
      protocolVersion: 4,
      msg: 'MQTT connected',
    });
    expect(formatLogLine(line, 'cloud')).toBe('10:41:25 INFO  cloud/mqtt-link  MQTT connected  protocolVersion=4');
  });

  it('passes other output through, labelled with the process', () => {
    expect(formatLogLine('plain text', 'edge')).toBe(`${' '.repeat(15)}edge  plain text`);
  });
});
