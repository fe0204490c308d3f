import { cp, mkdtemp } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describePackage, packedPackage, signPackageManifest, writePackageManifest, type SigningKey } from '@loupe/model-package';

const TOOLS = resolve(import.meta.dirname, '..', '..', '..', '..', 'tools');
const PCB_AOI = join(TOOLS, 'demo', 'models', 'pcb-aoi');
/** The shipped default backbone: task `features`, no classes. */
export const SQUEEZENET_BACKBONE = join(TOOLS, 'backbones', 'squeezenet-features');

interface PackageEdits {
  /** null: unsigned. */
  signer: SigningKey | null;
  /** Edits the model directory before it is described and signed. */
  before?: (directory: string) => Promise<void>;
  /** Edits it after signing, as a tamperer would. */
  after?: (directory: string) => Promise<void>;
}

/** The real pcb-aoi demo model as a package tar. */
export function pcbAoiPackage(workDir: string, edits: PackageEdits): Promise<Buffer> {
  return packageOf(PCB_AOI, ['manifest.json', 'pcb-aoi.opset11.onnx', 'sample-images'], workDir, edits);
}

/** The shipped SqueezeNet backbone as a package tar. */
export function squeezeNetBackbonePackage(workDir: string, edits: PackageEdits): Promise<Buffer> {
  return packageOf(SQUEEZENET_BACKBONE, ['manifest.json', 'squeezenet-features.onnx'], workDir, edits);
}

async function packageOf(source: string, files: string[], workDir: string, { signer, before, after }: PackageEdits): Promise<Buffer> {
  const directory = await mkdtemp(join(workDir, 'model-'));
  for (const file of files) await cp(join(source, file), join(directory, file), { recursive: true });
  await before?.(directory);
  const described = await describePackage(directory);
  await writePackageManifest(directory, signer ? signPackageManifest(described, signer) : described);
  await after?.(directory);
  return packedPackage(directory);
}
