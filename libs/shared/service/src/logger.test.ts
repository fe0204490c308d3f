import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('writes JSON lines naming the app, the component and the level', () => {
    const { lines, stream } = capture();
    createLogger('cloud', 'info', stream).child({ component: 'telemetry' }).info({ deviceId: 'd1' }, 'seen');
    expect(lines[0]).toMatchObject({ app: 'cloud', component: 'telemetry', level: 'info', deviceId: 'd1', msg: 'seen' });
    expect(typeof lines[0]?.time).toBe('string');
  });

  it('drops lines below its level', () => {
    const { lines, stream } = capture();
    const logger = createLogger('cloud', 'warn', stream);
    logger.info('quiet');
    logger.warn('loud');
    expect(lines.map((line) => line.msg)).toEqual(['loud']);
  });

  it('never writes secrets', () => {
    const { lines, stream } = capture();
    createLogger('cloud', 'info', stream).info({ s3: { secretAccessKey: 'abc' } }, 'config');
    expect(JSON.stringify(lines[0])).not.toContain('abc');
  });
});
