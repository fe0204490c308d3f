import { cp, mkdtemp } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describePackage, packedPackage, signPackageManifest, writePackageManifest, type SigningKey } from '@loupe/model-package';

const PCB_AOI = resolve(import.meta.dirname, '..', '..', '..', '..', 'tools', 'demo', 'models', 'pcb-aoi');

/**
 * The real pcb-aoi demo model as a package tar, signed by `signer` (null:
 * unsigned). `before` edits the model directory before it is described and
 * signed; `after` edits it after signing, as a tamperer would.
 */
export async function pcbAoiPackage(
  workDir: string,
  {
    signer,
    before,
    after,
  }: { signer: SigningKey | null; before?: (directory: string) => Promise<void>; after?: (directory: string) => Promise<void> },
): Promise<Buffer> {
  const directory = await mkdtemp(join(workDir, 'model-'));
  for (const file of ['manifest.json', 'pcb-aoi.opset11.onnx', 'sample-images']) await cp(join(PCB_AOI, file), join(directory, file), { recursive: true });
  await before?.(directory);
  const described = await describePackage(directory);
  await writePackageManifest(directory, signer ? signPackageManifest(described, signer) : described);
  await after?.(directory);
  return packedPackage(directory);
}
