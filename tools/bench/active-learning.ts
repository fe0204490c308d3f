/**
 * `npm run bench:active-learning`: how many labels the agent's default
 * selection saves against random labeling, simulated on DeepPCB trainval
 * through the product's own feature extractor, trainer and selection code.
 *
 * Data: every defect box of a tested image is a crop of its type (6
 * classes); the same box in the pair's defect-free template is a `normal`
 * crop; crops are cropScale 1.1 times the box (13,728 crops). Features
 * come from the shipped SqueezeNet backbone through FeatureExtractor and
 * are cached on disk (AL_CACHE_DIR, default .cache/bench/active-learning),
 * so only the first run extracts.
 *
 * Split by board group (the first 5 digits of a pair id), by pair, so a
 * defect and its template crop are always on the same side:
 * - within-board: in every group, 30 % of the pairs (by a hash of the pair
 *   id) are the test, the rest the pool;
 * - unseen-board: groups 44000, 50600, 77000 and 92000 (311 pairs) are the
 *   test, the other three groups the pool.
 *
 * The loop: AL_SEED_LABELS (20) random labels, then rounds of
 * AL_ROUND_LABELS (50) picked by the strategy from the pool's answers,
 * training a head with the product's trainer (default recipe; 20 % of the
 * labels validate) after each round, until test accuracy reaches 95 % of
 * the accuracy of a head trained on the whole pool, or AL_MAX_LABELS
 * (2000). Each strategy runs AL_SEEDS (5) seeds; a seed fixes the seed set,
 * the same for every strategy. labels_to_95 is the median over seeds of
 * the labels at the first crossing (linear between rounds).
 *
 * Knobs for a quick run: AL_SEEDS, AL_SEED_LABELS, AL_ROUND_LABELS,
 * AL_MAX_LABELS, AL_STRATEGIES (names, comma-separated; default and random
 * always run), AL_PROTOCOLS (within-board,unseen-board; empty: extract
 * features only), and the recipe's
 * AL_L2 (L2 strengths, comma-separated) and AL_MAX_ITERATIONS; unset, the
 * trainer's default recipe. The full run (9 strategies, 5 seeds) took 13
 * min within boards and 15 min on unseen boards, the two protocols as two
 * processes side by side on the 2-core development machine under other
 * load; the figures are where the default is defined
 * (libs/edge/sampling/src/sampling-policy.ts). A feature cache costs 7
 * min to fill the first time.
 *
 * Progress goes to stderr; the last line of stdout is one JSON object.
 */
import { availableParallelism } from 'node:os';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { trainingRecipeSchema } from '@loupe/api-contracts';
import { parseBackboneManifest } from '@loupe/inference';
import { CROP_CLASSES, cropsOf, type Protocol } from './active-learning/crop-dataset';
import { type Backbone, cropFeatures } from './active-learning/crop-features';
import { type LoopSettings } from './active-learning/learning-loop';
import { type ProtocolResult, runProtocol } from './active-learning/protocol-run';
import { DEFAULT_STRATEGY, RANDOM_STRATEGY, STRATEGIES } from './active-learning/strategies';
import { readDeepPcb } from './deeppcb';

const workspace = resolve(import.meta.dirname, '..', '..');
const BACKBONE_DIR = join(workspace, 'tools', 'backbones', 'squeezenet-features');
const CROP_SCALE = 1.1;

const env = process.env;
const numberFrom = (name: string, fallback: number) => Number(env[name] ?? fallback);
const SEEDS = numberFrom('AL_SEEDS', 5);
const CACHE_DIR = resolve(env.AL_CACHE_DIR ?? join(workspace, '.cache', 'bench', 'active-learning'));
const ALL_PROTOCOLS: readonly Protocol[] = ['within-board', 'unseen-board'];
const PROTOCOLS = ALL_PROTOCOLS.filter((protocol) => env.AL_PROTOCOLS === undefined || env.AL_PROTOCOLS.split(',').includes(protocol));
const WANTED = env.AL_STRATEGIES?.split(',');
const strategies = STRATEGIES.filter((strategy) => !WANTED || WANTED.includes(strategy.name) || strategy === DEFAULT_STRATEGY || strategy === RANDOM_STRATEGY);

const progress = (message: string) => process.stderr.write(`[bench:active-learning] ${message}\n`);

async function shippedBackbone(): Promise<Backbone> {
  const manifestPath = join(BACKBONE_DIR, 'manifest.json');
  const manifest = parseBackboneManifest(JSON.parse(await readFile(manifestPath, 'utf8')), manifestPath);
  return { bytes: await readFile(join(BACKBONE_DIR, manifest.modelFile)), spec: { input: manifest.input, features: manifest.features } };
}

function rounded(value: number | undefined, digits = 3): number | null {
  return value === undefined ? null : Number(value.toFixed(digits));
}

function summary(within: ProtocolResult | undefined, unseen: ProtocolResult | undefined, extract: { crops: number; extracted: number; seconds: number }) {
  const runs = [within, unseen].flatMap((result) => result?.runs ?? []);
  const perProtocol = (result: ProtocolResult | undefined, suffix: string) => ({
    [`labels_to_95_default${suffix}`]: rounded(result?.labelsTo95.get(DEFAULT_STRATEGY.name), 0),
    [`labels_to_95_random${suffix}`]: rounded(result?.labelsTo95.get(RANDOM_STRATEGY.name), 0),
    [`label_savings_at_95${suffix}`]: rounded(result?.savings.get(DEFAULT_STRATEGY.name)),
  });
  return {
    ...perProtocol(within, ''),
    ...perProtocol(unseen, '_unseen'),
    full_pool_accuracy: rounded(within?.fullAccuracy),
    full_pool_accuracy_unseen: rounded(unseen?.fullAccuracy),
    train_s_per_run: rounded(runs.reduce((sum, run) => sum + run.trainSeconds, 0) / Math.max(runs.length, 1), 2),
    strategies: Object.fromEntries(
      strategies.map(({ name }) => [
        name,
        {
          labels_to_95: rounded(within?.labelsTo95.get(name), 0),
          label_savings_at_95: rounded(within?.savings.get(name)),
          labels_to_95_unseen: rounded(unseen?.labelsTo95.get(name), 0),
          label_savings_at_95_unseen: rounded(unseen?.savings.get(name)),
        },
      ]),
    ),
    seeds: SEEDS,
    crops: extract.crops,
    features_extracted: extract.extracted,
    extract_s: rounded(extract.seconds, 1),
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  const backbone = await shippedBackbone();
  const { pairs, missing } = await readDeepPcb();
  if (missing.length > 0) progress(`trainval.txt names ${missing.length} pair(s) DeepPCB does not ship, left out: ${missing.join(', ')}`);
  const crops = cropsOf(pairs);
  const features = await cropFeatures(crops, backbone, { cropScale: CROP_SCALE, cacheDirectory: CACHE_DIR, threads: availableParallelism(), progress });
  const settings: Omit<LoopSettings, 'stopAtAccuracy'> = {
    classes: CROP_CLASSES,
    featureOutput: backbone.spec.features.output,
    recipe: trainingRecipeSchema.parse({
      ...(env.AL_L2 ? { l2Candidates: env.AL_L2.split(',').map(Number) } : {}),
      ...(env.AL_MAX_ITERATIONS ? { maxIterations: Number(env.AL_MAX_ITERATIONS) } : {}),
      cropScale: CROP_SCALE,
    }),
    seedLabels: numberFrom('AL_SEED_LABELS', 20),
    roundLabels: numberFrom('AL_ROUND_LABELS', 50),
    maxLabels: numberFrom('AL_MAX_LABELS', 2000),
  };
  const results = new Map(PROTOCOLS.map((protocol) => [protocol, runProtocol(protocol, crops, features.vectors, { settings, strategies, seeds: SEEDS, progress })]));
  progress(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  const extract = { crops: crops.length, extracted: features.extracted, seconds: features.extractSeconds };
  console.log(JSON.stringify(summary(results.get('within-board'), results.get('unseen-board'), extract)));
}

await main();
