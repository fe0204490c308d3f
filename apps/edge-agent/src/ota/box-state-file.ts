import { dirname } from 'node:path';
import { modelVersionSchema, UPDATE_STATUSES } from '@loupe/device-state';
import { UPDATE_STEPS, type BoxState } from '@loupe/ota';
import type { Logger } from 'pino';
import { z } from 'zod';
import { makeDirectoryDurably, writeFileDurably } from '../storage/durable-files';
import type { FileSystem } from '../storage/file-system';

/** A model version on this box, and the manifest to load it from. */
const installedModelSchema = modelVersionSchema.extend({ manifestPath: z.string().min(1) });
export type InstalledModel = z.infer<typeof installedModelSchema>;

const boxStateSchema = z.object({
  active: installedModelSchema.optional(),
  previous: installedModelSchema.optional(),
  staged: installedModelSchema.optional(),
  probation: z.object({ model: modelVersionSchema, startedAt: z.number(), crashes: z.number().int().min(0) }).optional(),
  /** A candidate being loaded, warmed up or self-tested: a model that kills the process there is counted like a crash on probation. */
  loading: z.object({ model: modelVersionSchema, generation: z.number().int().min(0), crashes: z.number().int().min(0) }).optional(),
  settledGeneration: z.number().int().min(0).optional(),
  failures: z.array(
    z.object({ model: modelVersionSchema, generation: z.number().int().min(0), step: z.enum(UPDATE_STEPS), reason: z.string(), message: z.string() }),
  ),
  /** Set at start, cleared at a clean stop: still set at the next start means the process died. */
  agentRunning: z.boolean(),
  /** The last update status reported, so a restarted box says the same until something changes. */
  report: z.object({
    status: z.enum(UPDATE_STATUSES),
    error: z.string(),
    generation: z.number().int().min(0),
    rolloutId: z.string(),
    crashes: z.number().int().min(0),
  }),
});

export type PersistedBoxState = z.infer<typeof boxStateSchema> & BoxState;

export const FRESH_BOX: Readonly<PersistedBoxState> = {
  failures: [],
  agentRunning: false,
  report: { status: 'idle', error: '', generation: 0, rolloutId: '', crashes: 0 },
};

/**
 * MODELS_DIR/state.json: what is active, previous and staged, probation,
 * and past failures. Every change is written to a temporary file, fsync'd,
 * renamed over state.json and the directory fsync'd: a crash at any moment
 * leaves the old state or the new one. The files a state names are made
 * durable before the state that names them is written, so state.json never
 * points at a version that is not fully on disk. `current` changes only
 * once a change is durable: a write that fails (a full disk) leaves memory
 * agreeing with the disk, and the caller with the error.
 */
export class BoxStateFile {
  private state: PersistedBoxState = FRESH_BOX;
  private writing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly log: Logger,
    private readonly files: FileSystem,
  ) {}

  get current(): PersistedBoxState {
    return this.state;
  }

  /** Reads the file; a missing one is a fresh box, an unreadable one is logged and treated as fresh. */
  async load(): Promise<PersistedBoxState> {
    await makeDirectoryDurably(this.files, dirname(this.path));
    let text: string;
    try {
      text = (await this.files.readFile(this.path)).toString('utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.state = FRESH_BOX;
      return this.state;
    }
    const parsed = (() => {
      try {
        return boxStateSchema.safeParse(JSON.parse(text));
      } catch (error) {
        return { success: false as const, error: error as Error };
      }
    })();
    if (parsed.success) {
      this.state = parsed.data;
    } else {
      this.log.error({ file: this.path, reason: parsed.error.message }, 'model state file is unreadable; starting as a fresh box (MODEL_MANIFEST serves)');
      this.state = FRESH_BOX;
    }
    return this.state;
  }

  /**
   * Applies `change` to the durable state, writes the result and only then
   * makes it `current`. Changes apply one after another in the order they
   * were asked for, each to the state the one before left.
   */
  change(change: (state: PersistedBoxState) => PersistedBoxState): Promise<PersistedBoxState> {
    const written = this.writing.then(async () => {
      const next = change(this.state);
      await writeFileDurably(this.files, this.path, `${JSON.stringify(next, null, 2)}\n`);
      this.state = next;
      return next;
    });
    this.writing = written.catch(() => undefined);
    return written;
  }
}
