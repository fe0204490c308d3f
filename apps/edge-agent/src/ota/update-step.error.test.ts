import { PackageRefusedError } from '@loupe/model-package';
import { describe, expect, it } from 'vitest';
import { failureOf, UpdateStepError } from './update-step.error';

describe('failureOf', () => {
  const errno = (code: string) => Object.assign(new Error(`${code}: no space left on device, write`), { code });

  it('reports a full disk or quota in any step as disk-full', () => {
    expect(failureOf('verify', errno('ENOSPC'))).toEqual({ step: 'verify', reason: 'disk-full', message: 'ENOSPC: no space left on device, write' });
    expect(failureOf('stage', errno('EDQUOT'))).toMatchObject({ step: 'stage', reason: 'disk-full' });
    expect(failureOf('stage', errno('EIO'))).toMatchObject({ step: 'stage', reason: 'error' });
  });

  it('keeps the step and reason of a named step error and the package library reason codes', () => {
    expect(failureOf('download', new UpdateStepError('download', 'disk-full', 'needs room'))).toEqual({ step: 'download', reason: 'disk-full', message: 'needs room' });
    expect(failureOf('verify', new PackageRefusedError('unknown-key', 'who signed this'))).toMatchObject({ step: 'verify', reason: 'unknown-key' });
  });
});
