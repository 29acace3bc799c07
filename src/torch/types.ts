/** Plain records that cross from the native layer to TypeScript (no tensors). */

/** Why a run stopped before its last epoch: an EarlyStopping, control.stop() or timeLimitMs. */
export type StopReason = 'earlyStopping' | 'stop' | 'timeLimit';

/** Per-epoch figures of one training run, Keras's History.history with timings. */
export interface History {
  /** 1-based epoch numbers. */
  epoch: number[];
  loss: number[];
  accuracy: number[];
  valLoss: number[];
  valAccuracy: number[];
  /** Wall time of each epoch, training and validation together. */
  seconds: number[];
  /** Training milliseconds per optimizer step in each epoch. */
  msPerStep: number[];
  /** Learning rate used in each epoch. */
  learningRate: number[];
}

/** What onEpochEnd receives after each epoch's validation. */
export interface EpochLog {
  /** 1-based. */
  epoch: number;
  epochs: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
  seconds: number;
  msPerStep: number;
  /** Steps run: fewer than an epoch's when the run stopped inside it (control.stop(), timeLimitMs). */
  steps: number;
  learningRate: number;
}

/** The second argument of onEpochEnd and onBatchEnd. */
export interface TrainControl {
  /**
   * Ends training and keeps the model, as Keras's `model.stop_training = True`: from onBatchEnd
   * the epoch ends at this batch (it still gets its validation and log), from onEpochEnd after
   * this epoch. trainModel resolves with the model, the history so far and stoppedEpoch.
   * (An AbortSignal instead rejects and frees the model.)
   */
  stop(): void;
}

/** What onBatchEnd receives (throttled): running means over the epoch so far. */
export interface BatchLog {
  epoch: number;
  /** 1-based step within the epoch. */
  step: number;
  steps: number;
  loss: number;
  accuracy: number;
  elapsedSeconds: number;
}

/** One layer of Model.summary(), in Keras's terms. */
export interface LayerSummary {
  /** Unique name, e.g. 'conv2d', 'batch_normalization_1'. */
  name: string;
  /** Keras class name: 'InputLayer', 'Conv2D', 'BatchNormalization', 'MaxPooling2D', 'Flatten', 'Dense', 'Activation', 'Add'. */
  type: string;
  /** Output shape without the batch dimension, channels last as Keras prints it, e.g. [26, 26, 32]. */
  outputShape: number[];
  /** All parameters (trainable and BatchNorm moving statistics). */
  params: number;
  trainableParams: number;
  /** Names of the layers feeding this one (empty for the input). */
  inbound: string[];
  /** Short description of the settings, e.g. '3x3, 32 filters, sigmoid'. */
  config: string;
}

/** Model.summary(): the layer table and Keras's totals. */
export interface ModelSummary {
  /** 'cnn', 'resnet' or 'layers' (a model of the layers API). */
  kind: 'cnn' | 'resnet' | 'layers';
  /** Keras-like model name, e.g. 'model_cnn5', 'resnet_v1_depth2', 'sequential' (a layers model) or 'model' (one with residual blocks). */
  name: string;
  depth?: number;
  inputShape: number[];
  numClasses: number;
  layers: LayerSummary[];
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
}
