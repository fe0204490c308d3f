import { GoldenSampleMismatchError, ModelLoadError } from '@loupe/inference';
import { PackageRefusedError } from '@loupe/model-package';
import type { UpdateStepName } from '@loupe/ota';
import { isDiskFull } from '../storage/disk-full';

/** A step of an update failed for a reason worth a stable code. */
export class UpdateStepError extends Error {
  constructor(
    readonly step: UpdateStepName,
    /** Stable, for metrics and scripts: `too-large`, `http-404`, `latency`, ... */
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'UpdateStepError';
  }
}

/** The step and reason code an error of `step` is reported with. */
export function failureOf(step: UpdateStepName, error: unknown): { step: UpdateStepName; reason: string; message: string } {
  const message = (error as Error).message ?? String(error);
  if (error instanceof UpdateStepError) return { step: error.step, reason: error.reason, message };
  // The package library's reason codes, as the registry reports them.
  if (error instanceof PackageRefusedError) return { step, reason: error.reason, message };
  // ModelPipeline.open checks golden samples right after its warm-up runs: that check is the self-test's.
  if (error instanceof GoldenSampleMismatchError) return { step: 'self-test', reason: 'golden-mismatch', message };
  if (error instanceof ModelLoadError) return { step, reason: 'load-failed', message };
  // Unpacking or a state write on a full disk: freeing space helps, trying again does not.
  if (isDiskFull(error)) return { step, reason: 'disk-full', message };
  return { step, reason: 'error', message };
}
