import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import type { Logger } from 'pino';

export const PROVIDERS = ['tensorrt', 'cuda', 'cpu'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export interface ProviderSettings {
  /** Tried in order; the first that loads the model runs it. */
  chain: ProviderName[];
  tensorrt: {
    fp16: boolean;
    int8: boolean;
    int8CalibrationTable?: string;
    /** Engines are cached under <engineCacheDir>/<model sha256>/. */
    engineCacheDir: string;
    workspaceBytes: number;
  };
  cuda: { deviceId: number };
  /**
   * spinWait: threads spin briefly for their next piece of work instead of
   * sleeping. ONNX Runtime's default; it saves a wake-up per parallel
   * operator (milliseconds per image on a small CPU) at the cost of CPU
   * time other processes on the machine could use.
   */
  cpu: { intraOpThreads: number; interOpThreads: number; spinWait: boolean };
}

/** No provider in the chain could load the model; `attempts` says why each failed. */
export class NoUsableProviderError extends Error {
  constructor(readonly attempts: { provider: ProviderName; reason: string }[]) {
    super(`no execution provider could load the model: ${attempts.map((a) => `${a.provider}: ${a.reason}`).join('; ')}`);
    this.name = 'NoUsableProviderError';
  }
}

export type SessionCreator = (options: InferenceSession.SessionOptions) => Promise<InferenceSession>;

/**
 * Creates a session on the first provider in the chain that works, falling
 * back with a warning. Each attempt lists the failed provider's successors
 * too, as ONNX Runtime expects: nodes TensorRT cannot take go to CUDA, then
 * to the CPU.
 *
 * The Node binding passes only the device id to TensorRT, so its other
 * options travel as the ORT_TENSORRT_* environment variables the TensorRT
 * provider reads when a session is created.
 */
export async function createSessionWithFallback(
  create: SessionCreator,
  settings: ProviderSettings,
  modelSha256: string,
  logger: Logger,
): Promise<{ session: InferenceSession; provider: ProviderName }> {
  const attempts: { provider: ProviderName; reason: string }[] = [];
  for (let index = 0; index < settings.chain.length; index++) {
    const chain = settings.chain.slice(index);
    const provider = chain[0]!;
    if (provider === 'tensorrt') applyTensorRtEnvironment(settings.tensorrt, modelSha256);
    try {
      const session = await create({
        executionProviders: chain.map((name) => providerOption(name, settings)),
        intraOpNumThreads: settings.cpu.intraOpThreads,
        interOpNumThreads: settings.cpu.interOpThreads,
        graphOptimizationLevel: 'all',
        ...(settings.cpu.spinWait ? {} : { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } }),
      });
      return { session, provider };
    } catch (error) {
      const reason = (error as Error).message.split('\n')[0] ?? String(error);
      attempts.push({ provider, reason });
      const next = settings.chain[index + 1];
      logger.warn({ provider, reason, next: next ?? null }, `execution provider ${provider} unavailable${next ? `; trying ${next}` : ''}`);
    }
  }
  throw new NoUsableProviderError(attempts);
}

function providerOption(name: ProviderName, settings: ProviderSettings): InferenceSession.ExecutionProviderConfig {
  switch (name) {
    case 'tensorrt':
      return { name: 'tensorrt', deviceId: settings.cuda.deviceId };
    case 'cuda':
      return { name: 'cuda', deviceId: settings.cuda.deviceId };
    case 'cpu':
      return { name: 'cpu' };
  }
}

function applyTensorRtEnvironment(tensorrt: ProviderSettings['tensorrt'], modelSha256: string): void {
  const cacheDir = join(tensorrt.engineCacheDir, modelSha256);
  mkdirSync(cacheDir, { recursive: true });
  // TensorRT names its engine files after the GPU's compute capability and
  // its own version, so one model folder holds engines for every box type.
  process.env.ORT_TENSORRT_ENGINE_CACHE_ENABLE = '1';
  process.env.ORT_TENSORRT_CACHE_PATH = cacheDir;
  process.env.ORT_TENSORRT_FP16_ENABLE = tensorrt.fp16 ? '1' : '0';
  process.env.ORT_TENSORRT_INT8_ENABLE = tensorrt.int8 ? '1' : '0';
  process.env.ORT_TENSORRT_MAX_WORKSPACE_SIZE = String(tensorrt.workspaceBytes);
  if (tensorrt.int8CalibrationTable) process.env.ORT_TENSORRT_INT8_CALIBRATION_TABLE_NAME = tensorrt.int8CalibrationTable;
}
