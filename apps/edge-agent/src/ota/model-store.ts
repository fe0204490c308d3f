import { join } from 'node:path';
import type { ModelVersion } from '@loupe/device-state';
import { makeDirectoryDurably } from '../storage/durable-files';
import type { FileSystem } from '../storage/file-system';

/**
 * Where OTA keeps things under MODELS_DIR:
 *
 *   state.json                      what is active, previous, staged; see box-state-file.ts
 *   downloads/<package sha>.tar     a package as downloaded (.part while it arrives)
 *   unpacking/<package sha>/        a package being verified; never loaded from here
 *   versions/<name>/<version>/      verified packages: staged, active and previous
 *
 * Only a verified directory is ever renamed into versions/, so anything
 * there passed its hash and signature checks. All file work goes through
 * `files`, the disk in production.
 */
export class ModelStore {
  constructor(
    readonly root: string,
    readonly files: FileSystem,
  ) {}

  get stateFile(): string {
    return join(this.root, 'state.json');
  }

  packageFile(packageSha256: string): string {
    return join(this.root, 'downloads', `${packageSha256}.tar`);
  }

  partFile(packageSha256: string): string {
    return `${this.packageFile(packageSha256)}.part`;
  }

  unpackDirectory(packageSha256: string): string {
    return join(this.root, 'unpacking', packageSha256);
  }

  versionDirectory(model: Pick<ModelVersion, 'name' | 'version'>): string {
    return join(this.root, 'versions', model.name, model.version);
  }

  /**
   * Makes the folders (durably: versions/ holds what state.json names) and
   * clears unpacking/, whose content a crash left unverified: verify starts
   * again from the package file. Partial downloads stay to be resumed.
   */
  async prepare(): Promise<void> {
    await this.files.remove(join(this.root, 'unpacking'));
    for (const directory of ['downloads', 'unpacking', 'versions']) await makeDirectoryDurably(this.files, join(this.root, directory));
  }

  /** Removes every download and unpacking directory, and the versions not in `keep`; resolves with what it removed. */
  async prune(keep: readonly Pick<ModelVersion, 'name' | 'version'>[]): Promise<string[]> {
    const removed: string[] = [];
    const remove = async (path: string) => {
      await this.files.remove(path);
      removed.push(path);
    };
    const listing = async (directory: string) => (await this.files.list(directory)).map((entry) => entry.name);
    for (const file of await listing(join(this.root, 'downloads'))) await remove(join(this.root, 'downloads', file));
    for (const directory of await listing(join(this.root, 'unpacking'))) await remove(join(this.root, 'unpacking', directory));
    const kept = new Set(keep.map((model) => this.versionDirectory(model)));
    for (const name of await listing(join(this.root, 'versions'))) {
      for (const version of await listing(join(this.root, 'versions', name))) {
        const directory = join(this.root, 'versions', name, version);
        if (!kept.has(directory)) await remove(directory);
      }
      if ((await listing(join(this.root, 'versions', name))).length === 0) await remove(join(this.root, 'versions', name));
    }
    return removed;
  }
}
