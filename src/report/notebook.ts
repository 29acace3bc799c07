/**
 * The notebook's own published results (listed in docs/parity.md), shown beside ours in the
 * report's comparison table.
 */
import type { ModelSummary } from '../torch/types.js';

/** One model's figures as the notebook printed them (its own data, a Colab GPU). */
export interface NotebookResult {
  /** The notebook's name for the model. */
  model: string;
  /** Accuracies as fractions. */
  trainAccuracy: number;
  valAccuracy: number;
  testAccuracy: number;
  /** Approximate, as Keras's progress bar printed them. */
  secondsPerEpoch: number;
  msPerStep: number;
  device: string;
}

/**
 * The published figures: CNN 88.64 % train, 85.13 % val, 85.13 % test, ~2 s/epoch
 * (6 ms/step); ResNet depth 2: 76.01 %, 74.63 %, 73.47 %, ~1 s/epoch (3 ms/step).
 */
export const NOTEBOOK_RESULTS: { readonly cnn: NotebookResult; readonly resnet2: NotebookResult } = {
  cnn: { model: 'CNN (model_cnn5)', trainAccuracy: 0.8864, valAccuracy: 0.8513, testAccuracy: 0.8513, secondsPerEpoch: 2, msPerStep: 6, device: 'Colab GPU' },
  resnet2: { model: 'ResNet v1 depth 2', trainAccuracy: 0.7601, valAccuracy: 0.7463, testAccuracy: 0.7347, secondsPerEpoch: 1, msPerStep: 3, device: 'Colab GPU' },
};

/**
 * The notebook result to compare a model with: the CNN, or the depth-2 ResNet
 * (the notebook ran no other depth).
 *
 * @example
 * ```ts
 * notebookResultFor(model.summary())?.testAccuracy; // 0.8513 for the CNN
 * ```
 */
export function notebookResultFor(summary: Pick<ModelSummary, 'kind' | 'depth'>): NotebookResult | undefined {
  if (summary.kind === 'cnn') return NOTEBOOK_RESULTS.cnn;
  if (summary.kind === 'resnet' && summary.depth === 2) return NOTEBOOK_RESULTS.resnet2;
  return undefined;
}
