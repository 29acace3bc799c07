// Training, trained models, checkpoints, tensors and the runtime.
import {
  trainModel, Model, Tensor, info, liveTensors, distributedFromEnv, notebookLearningRate,
  type TrainOptions, type TrainResult, type History, type EpochLog, type ModelConfig, type ModelSummary, type NdArray,
  type Device, type RuntimeInfo, type LoadOptions,
} from 'torchfit';

declare const x: NdArray;
declare const y: Int32Array;

export async function usage(): Promise<void> {
  const options: TrainOptions = {
    model: { kind: 'resnet', depth: 20 },
    train: { x, y },
    validation: { x, y },
    epochs: 2,
    batchSize: 64,
    optimizer: { name: 'adam', learningRate: 1e-3 },
    lrSchedule: (epoch, lr) => (epoch > 10 ? lr / 10 : lr),
    earlyStopping: { monitor: 'val_accuracy', patience: 3, restoreBestWeights: true },
    augment: { horizontalFlip: true, rotation: 10, fillMode: 'nearest' },
    device: 'cuda:1',
    kernels: 'plain',
    signal: AbortSignal.timeout(60_000),
    onEpochEnd: (log: EpochLog) => void log.valAccuracy,
    verbose: 2,
    distributed: 'env',
  };
  const result: TrainResult = await trainModel(options);
  const history: History = result.history;
  const losses: number[] = history.loss;
  const model: Model = result.model;
  const config: ModelConfig = model.config;
  const kind: 'cnn' | 'resnet' | 'layers' = config.kind;
  const summary: ModelSummary = model.summary();
  const { loss, accuracy } = await model.evaluate(x, y, { batchSize: 256 });
  const probabilities: NdArray = await model.predict(x);
  const classes: Int32Array = await model.predictClasses(x);
  await model.save('model.pt', { includeOptimizer: false });
  const loaded: Model = await Model.load('model.pt', { device: 'auto', imageSize: [28, 28] });
  await trainModel({ model: 'cnn', train: { x, y }, resume: loaded, optimizer: 'sgd', lrSchedule: 'notebook' });
  model.dispose();
  void [losses, kind, summary, loss, accuracy, probabilities, classes, notebookLearningRate(3), distributedFromEnv()];

  const device: Device = 'cuda';
  const tensor = Tensor.from(new Float32Array(4), [2, 2], { dtype: 'float64', device });
  const shape: number[] = tensor.shape;
  await trainModel({ model: 'cnn', train: { x: tensor, y: [0, 1] } });
  tensor.dispose();
  const runtime: RuntimeInfo = info();
  const count: number = liveTensors() + runtime.deviceCount;
  void [shape, count];

  // @ts-expect-error 'gpu' is not a device
  await trainModel({ model: 'cnn', train: { x, y }, device: 'gpu' });
  // @ts-expect-error no such model
  await trainModel({ model: 'mlp', train: { x, y } });
  // @ts-expect-error epochs is a number
  await trainModel({ model: 'cnn', train: { x, y }, epochs: '3' });
  // @ts-expect-error no such optimizer
  await trainModel({ model: 'cnn', train: { x, y }, optimizer: 'rmsprop' });
  // @ts-expect-error misspelt option
  await trainModel({ model: 'cnn', train: { x, y }, batchsize: 32 });
  // @ts-expect-error the training data is required
  await trainModel({ model: 'cnn' });
  // @ts-expect-error verbose is 0, 1 or 2
  await trainModel({ model: 'cnn', train: { x, y }, verbose: 3 });
  // @ts-expect-error 'tpu' is not a device
  const badLoad: LoadOptions = { device: 'tpu' };
  // @ts-expect-error Tensor.from takes a device name
  Tensor.from(new Float32Array(1), [1], { device: 0 });
  // @ts-expect-error models come from trainModel and Model.load
  new Model();
  // @ts-expect-error Model.config is the public ModelConfig, without the native spec's fields
  void model.config.layersJson;
  // @ts-expect-error the native handle is internal
  void model.handle;
  void badLoad;
}

// @ts-expect-error the native spec's type is internal
import type { NativeModelSpec } from 'torchfit';
export type Unused = NativeModelSpec;

// Training control: callbacks as data, control.stop(), time limits, exact resumption.
import { csvLogger, modelCheckpoint, reduceLROnPlateau, earlyStopping, type Callback, type TrainControl } from 'torchfit';

export async function control(model: Model): Promise<void> {
  const callbacks: Callback[] = [
    reduceLROnPlateau({ factor: 0.5, patience: 2, minLr: 1e-4 }),
    modelCheckpoint({ path: 'runs/{epoch:02d}.pt', saveBestOnly: true }),
    csvLogger({ path: 'runs/log.csv' }),
    earlyStopping({ monitor: 'val_accuracy', baseline: 0.5, startFromEpoch: 2 }),
  ];
  const result = await trainModel({
    model: 'cnn', train: { x, y }, callbacks, timeLimitMs: 1000, initialEpoch: 2, epochs: 4, resume: model,
    onBatchEnd: (_log, c: TrainControl) => c.stop(),
  });
  void result.stopReason;
  // @ts-expect-error a monitor Keras does not log
  reduceLROnPlateau({ monitor: 'val_precision' });
  // @ts-expect-error modelCheckpoint needs a path
  modelCheckpoint({ saveBestOnly: true });
}
