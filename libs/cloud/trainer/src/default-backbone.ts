/**
 * The registry name of the backbone a training run uses when it names none:
 * the SqueezeNet shipped in tools/backbones/squeezenet-features, which
 * `npm start` pushes (and an operator pushes with `loupe model push`).
 */
export const DEFAULT_BACKBONE_MODEL = 'squeezenet-features';
