import { describeModel } from '@loupe/device-state';
import type { Logger } from 'pino';
import type { ModelActivation } from '../models/model-activation';
import type { BoxStateFile, InstalledModel, PersistedBoxState } from './box-state-file';
import { NO_FAULT_POINTS, type FaultPoints } from './fault-points';
import { UpdateStepError } from './update-step.error';

/** The state with previous and active swapped and any probation over. */
export function swappedToPrevious({ probation: _probation, loading: _loading, ...state }: PersistedBoxState): PersistedBoxState {
  const { active, previous } = state;
  return { ...state, ...(previous ? { active: previous } : {}), ...(active ? { previous: active } : {}) };
}

/**
 * The roll-back step: the previous version comes back from its files on
 * the box, without a download, and the two swap places. It is loaded and
 * warmed up beside the serving model and swapped in like any activation,
 * so no request fails. Ends any probation.
 */
export class VersionRollback {
  private readonly log: Logger;

  constructor(
    private readonly activation: ModelActivation,
    private readonly state: BoxStateFile,
    logger: Logger,
    private readonly faults: FaultPoints = NO_FAULT_POINTS,
  ) {
    this.log = logger.child({ component: 'version-rollback' });
  }

  /**
   * Resolves with the version now active. `record` adds to the state
   * change that makes the swap, in the same write: a failure recorded
   * there can never be lost between the swap and a later write.
   */
  async run(record: (state: PersistedBoxState) => PersistedBoxState = (state) => state): Promise<InstalledModel> {
    const { active, previous } = this.state.current;
    if (!previous) throw new UpdateStepError('roll-back', 'no-previous', 'there is no previous version on this box to roll back to');
    const pipeline = await this.activation.load(previous.manifestPath);
    if (pipeline.model.sha256 !== previous.sha256) {
      await pipeline.close();
      throw new UpdateStepError('roll-back', 'hash-mismatch', `the files of ${describeModel(previous)} changed on disk (model SHA-256 now ${pipeline.model.sha256})`);
    }
    try {
      await this.state.change((state) => record(swappedToPrevious(state)));
    } catch (error) {
      await pipeline.close();
      throw error;
    }
    this.faults.reached('roll-back:recorded');
    await this.activation.serve(pipeline);
    this.log.info({ model: previous.name, version: previous.version, from: active?.version }, 'rolled back to the previous version');
    return previous;
  }
}
