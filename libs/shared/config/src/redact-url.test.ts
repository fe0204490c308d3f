import { describe, expect, it } from 'vitest';
import { redactUrl } from './redact-url';

describe('redactUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactUrl('mqtts://edge-1:s3cret@broker.example:8883')).toBe('mqtts://edge-1:***@broker.example:8883');
  });

  it('leaves URLs without a password unchanged', () => {
    expect(redactUrl('mqtt://127.0.0.1:1884')).toBe('mqtt://127.0.0.1:1884');
    expect(redactUrl('not a url')).toBe('not a url');
  });
});
