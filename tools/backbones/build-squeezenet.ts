/**
 * Rebuilds the shipped default backbone (tools/backbones/squeezenet-features)
 * from the SqueezeNet in tools/testdata: initializers no longer listed as
 * inputs, a free batch (and free spatial size), and the last fire module's
 * output as the only output, so the ImageNet classifier is gone. The result
 * is deterministic; run it again only when the source model changes.
 *
 *   node --import tsx tools/backbones/build-squeezenet.ts
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { prepareBackbone, readOnnxModel, writeOnnxModel } from '@loupe/onnx-graph';

const source = join(import.meta.dirname, '..', 'testdata', 'models', 'squeezenet1.0', 'SqueezeNet_fp32.from-fp16.onnx');
const target = join(import.meta.dirname, 'squeezenet-features');
const manifest = JSON.parse(await readFile(join(target, 'manifest.json'), 'utf8')) as { modelFile: string; features: { output: string } };

const backbone = prepareBackbone(readOnnxModel(await readFile(source)), { outputs: [manifest.features.output] });
backbone.producerName = 'loupe tools/backbones/build-squeezenet.ts';
await writeFile(join(target, manifest.modelFile), writeOnnxModel(backbone));
console.log(`wrote ${join(target, manifest.modelFile)}`);
