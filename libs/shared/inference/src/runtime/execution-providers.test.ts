import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { silentLogger, testSettings } from '../testing/model-fixtures';
import { NoUsableProviderError, createSessionWithFallback } from './execution-providers';

const fakeSession = {} as InferenceSession;

describe('createSessionWithFallback', () => {
  it('uses the first provider that loads, asking for it and its successors', async () => {
    const asked: string[][] = [];
    const settings = { ...testSettings().providers, chain: ['tensorrt' as const, 'cuda' as const, 'cpu' as const] };
    const { provider } = await createSessionWithFallback(
      (options) => {
        const names = (options.executionProviders ?? []).map((p) => (typeof p === 'string' ? p : p.name));
        asked.push(names);
        return names[0] === 'tensorrt' ? Promise.reject(new Error('libnvinfer.so not found')) : Promise.resolve(fakeSession);
      },
      settings,
      'abc',
      silentLogger,
    );
    expect(provider).toBe('cuda');
    expect(asked).toEqual([
      ['tensorrt', 'cuda', 'cpu'],
      ['cuda', 'cpu'],
    ]);
  });

  it('says why every provider failed when none loads', async () => {
    const attempt = createSessionWithFallback(() => Promise.reject(new Error('bad model')), testSettings().providers, 'abc', silentLogger);
    await expect(attempt).rejects.toThrow(NoUsableProviderError);
    await expect(attempt).rejects.toThrow(/cpu: bad model/);
  });

  it('hands TensorRT its options and an engine cache folder keyed by the model hash', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'loupe-trt-'));
    const settings = {
      ...testSettings().providers,
      chain: ['tensorrt' as const],
      tensorrt: { fp16: true, int8: true, int8CalibrationTable: '/models/calib.table', engineCacheDir: cache, workspaceBytes: 1234 },
    };
    let seen: Record<string, string | undefined> = {};
    await createSessionWithFallback(
      () => {
        seen = Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('ORT_TENSORRT_')));
        return Promise.resolve(fakeSession);
      },
      settings,
      'f00d',
      silentLogger,
    );
    expect(seen).toMatchObject({
      ORT_TENSORRT_ENGINE_CACHE_ENABLE: '1',
      ORT_TENSORRT_CACHE_PATH: join(cache, 'f00d'),
      ORT_TENSORRT_FP16_ENABLE: '1',
      ORT_TENSORRT_INT8_ENABLE: '1',
      ORT_TENSORRT_INT8_CALIBRATION_TABLE_NAME: '/models/calib.table',
      ORT_TENSORRT_MAX_WORKSPACE_SIZE: '1234',
    });
    expect(existsSync(join(cache, 'f00d'))).toBe(true);
    await rm(cache, { recursive: true, force: true });
  });
});
