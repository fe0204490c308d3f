import type { AnomalyHeadSpec } from './anomaly-head';
import type { BankOptions } from './bank-builder';

/**
 * Settings for the shipped SqueezeNet, chosen on DeepPCB (docs/discover.md):
 * fire3 alone (stride 4, a 31-pixel neighbourhood after aggregation) beat
 * fire5+fire7 by 0.10 box AUROC and 0.27 image AUROC on the hardest board
 * groups, because small neighbourhoods of a good board look like those of
 * any other part of it while a spur or a pin-hole does not; 32 dimensions
 * and 1,024 rows keep the head within twice a classifier's time.
 */
export const SQUEEZENET_DISCOVER: { spec: AnomalyHeadSpec; bank: BankOptions } = {
  spec: {
    features: { layers: ['fire3/concat_1'], aggregation: 3, dimension: 32, seed: 19 },
    imageScore: { border: 2, blur: 3, topK: 1 },
    maxChunkBytes: 4 * 1024 * 1024,
  },
  bank: { bankSize: 1024, patchesPerImage: 512, maxRows: 65_536, cellStride: 2, coresetDimension: 16, seed: 19, maxChunkBytes: 4 * 1024 * 1024 },
};
