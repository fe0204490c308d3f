import { dirname, join } from 'node:path';
import { MODEL_MANIFEST_FILE } from '@loupe/model-package';
import { sameModel, type DesiredModel } from '@loupe/device-state';
import type { Logger } from 'pino';
import type { BoxStateFile, InstalledModel } from './box-state-file';
import { makeDirectoryDurably, renameDurably, syncTree } from '../storage/durable-files';
import { NO_FAULT_POINTS, type FaultPoints } from './fault-points';
import type { ModelStore } from './model-store';
import { UpdateStepError } from './update-step.error';

/**
 * The stage step: moves a verified package into
 * MODELS_DIR/versions/<name>/<version>/ and records it as staged. Its files
 * reach the disk before the rename and the rename before state.json names
 * it, so a crash leaves either no staged version or a complete one.
 */
export class VersionStaging {
  private readonly log: Logger;

  constructor(
    private readonly store: ModelStore,
    private readonly state: BoxStateFile,
    logger: Logger,
    private readonly faults: FaultPoints = NO_FAULT_POINTS,
  ) {
    this.log = logger.child({ component: 'version-staging' });
  }

  async run(desired: DesiredModel): Promise<InstalledModel> {
    const from = this.store.unpackDirectory(desired.package.sha256);
    const to = this.store.versionDirectory(desired.model);
    const { active, previous } = this.state.current;
    for (const kept of [active, previous]) {
      if (kept && kept.manifestPath === join(to, MODEL_MANIFEST_FILE) && !sameModel(kept, desired.model)) {
        throw new UpdateStepError(
          'stage',
          'version-conflict',
          `${desired.model.name} ${desired.model.version} is already on this box with another SHA-256 (${kept.sha256}); a version's bytes never change, so publish the new build as a new version`,
        );
      }
    }
    const { files } = this.store;
    await syncTree(files, from);
    await files.remove(to);
    await makeDirectoryDurably(files, dirname(to));
    await renameDurably(files, from, to);
    this.faults.reached('stage:moved');
    const staged: InstalledModel = { ...desired.model, manifestPath: join(to, MODEL_MANIFEST_FILE) };
    await this.state.change((state) => ({ ...state, staged }));
    await files.remove(this.store.packageFile(desired.package.sha256));
    this.log.info({ model: staged.name, version: staged.version, directory: to }, 'version staged');
    return staged;
  }
}
