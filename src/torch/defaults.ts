/**
 * trainModel's defaults, the notebook's where it has one. The one place they are written:
 * options.ts, callbacks.ts and the model resolver apply them, the command line and the
 * notebook runner quote them in help texts instead of restating them.
 */
export const TRAIN_DEFAULTS = {
  epochs: 25,
  batchSize: 128,
  evalBatchSize: 1024,
  seed: 0,
  shuffle: true,
  device: 'auto',
  kernels: 'fused',
  batchProgressIntervalMs: 100,
  verbose: 0,
  /** The CNN trains with SGD as in the notebook, every other model with Adam. */
  optimizer: { cnn: 'sgd', other: 'adam' },
  learningRate: { sgd: 0.01, adam: 0.001 },
  /** The CNN's own EarlyStopping on val_loss (the `earlyStopping` option), the notebook's patience. */
  earlyStoppingPatience: 10,
  resnetDepth: 2,
  /** BatchNorm momentum of the built-in models, Keras's terms (Keras's default). */
  batchNormMomentum: 0.99,
} as const;
