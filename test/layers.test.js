// The layers API's description side: validation messages, defaults, shapes, Keras parameter
// counts (worked out by hand), summaries, and the module names the native model gives them.
import test from 'ava';

import { cnnLayers, describeModel, InvalidOptionError, trainModel } from '../dist/index.js';
import { resolveLayers } from '../dist/models/resolve.js';
import { native } from '../dist/torch/native.js';
import { nativeModelSpec } from '../dist/models/native-spec.js';

const dense5 = { type: 'dense', units: 5, activation: 'softmax' };

const refused = [
  ['an unknown layer type', [{ type: 'conv3d', filters: 3 }], 'model.layers[0].type',
    "expected a layer type: one of 'conv2d', 'dense', 'batchNormalization', 'activation', 'maxPooling2d', 'averagePooling2d', 'globalAveragePooling2d', 'flatten', 'dropout', 'residual', received \"conv3d\""],
  ['a field of the wrong type', [{ type: 'conv2d', filters: '32', kernelSize: 3 }, { type: 'flatten' }, dense5], 'model.layers[0].filters',
    'expected an integer from 1 to 65536, received "32"'],
  ['a nested field of the wrong type', [{ type: 'residual', layers: [{ type: 'batchNormalization' }, { type: 'conv2d', filters: 1, kernelSize: [3, 'x'] }] }],
    'model.layers[0].layers[1].kernelSize[1]', 'expected an integer from 1 to 65536, received "x"'],
  ['a Python-style field name', [{ type: 'conv2d', filters: 32, kernel_size: 3 }], 'model.layers[0].kernel_size',
    "expected a field of conv2d: 'filters', 'kernelSize', 'strides', 'padding', 'activation', 'useBias', 'kernelInitializer', 'kernelRegularizer', received unknown field 'kernel_size'"],
  ['a pool that collapses the image', [
    { type: 'conv2d', filters: 8, kernelSize: 3 }, { type: 'maxPooling2d' }, { type: 'conv2d', filters: 8, kernelSize: 3 },
    { type: 'maxPooling2d', poolSize: 6 }, { type: 'maxPooling2d', poolSize: [1, 2] }, { type: 'flatten' }, dense5,
  ], 'model.layers[4].poolSize',
  "expected a pool no larger than its 1x1 input with 'valid' padding (the output would have no pixels; use padding 'same' or a smaller window), received 1x2"],
  ['a kernel larger than its input, nested', [
    { type: 'maxPooling2d', poolSize: 7 },
    { type: 'residual', layers: [{ type: 'conv2d', filters: 1, kernelSize: 3, padding: 'same' }, { type: 'conv2d', filters: 1, kernelSize: 5 }] },
  ], 'model.layers[1].layers[1].kernelSize',
  "expected a kernel no larger than its 4x4 input with 'valid' padding (the output would have no pixels; use padding 'same' or a smaller window), received 5x5"],
  ['a last layer with the wrong width', [{ type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }], 'model.layers[1].units',
    "expected a last layer with one score per class: 5 outputs (e.g. { type: 'dense', units: 5, activation: 'softmax' }), received 10"],
  ['a last output that is an image', [{ type: 'conv2d', filters: 5, kernelSize: 3 }], 'model.layers[0]',
    "expected a last layer with one score per class: 5 outputs (e.g. { type: 'dense', units: 5, activation: 'softmax' }), received an output of 26x26x5"],
  ['softmax before the last layer', [{ type: 'flatten' }, { type: 'dense', units: 64, activation: 'softmax' }, { type: 'dense', units: 5 }],
    'model.layers[1].activation',
    "expected an activation other than 'softmax' (softmax turns scores into class probabilities: only the last layer may use it), received \"softmax\""],
  ['softmax inside a residual block', [{ type: 'residual', layers: [{ type: 'activation', activation: 'softmax' }] }, { type: 'flatten' }, dense5],
    'model.layers[0].layers[0].activation',
    "expected an activation other than 'softmax' (softmax turns scores into class probabilities: only the last layer may use it), received \"softmax\""],
  ['another activation on the last layer', [{ type: 'flatten' }, { type: 'dense', units: 5, activation: 'sigmoid' }], 'model.layers[1].activation',
    "expected 'softmax' or 'linear' on the last layer (its outputs are the class scores), received \"sigmoid\""],
  ['dense on an image', [dense5], 'model.layers[0]',
    'expected a flat input for dense (add a flatten or globalAveragePooling2d layer before it), received an image input 28x28x1'],
  ['conv2d after flatten', [{ type: 'flatten' }, { type: 'conv2d', filters: 4, kernelSize: 3 }], 'model.layers[1]',
    'expected an image input (height, width, channels) for conv2d, received a flat input of 784 values (after flatten, dense or globalAveragePooling2d)'],
  ['residual branches that disagree', [
    { type: 'residual', layers: [{ type: 'conv2d', filters: 8, kernelSize: 3, strides: 2, padding: 'same' }] }, { type: 'flatten' }, dense5,
  ], 'model.layers[0].shortcut',
  "expected a shortcut whose output is the body's 14x14x8 (the two branches are added; e.g. a 1x1 conv2d with the body's filters and strides), received the identity of the 28x28x1 input (no shortcut given)"],
  ['a shortcut of another shape', [
    { type: 'residual', layers: [{ type: 'conv2d', filters: 8, kernelSize: 3, padding: 'same' }], shortcut: [{ type: 'conv2d', filters: 4, kernelSize: 1 }] },
    { type: 'flatten' }, dense5,
  ], 'model.layers[0].shortcut',
  "expected a shortcut whose output is the body's 28x28x8 (the two branches are added; e.g. a 1x1 conv2d with the body's filters and strides), received an output of 28x28x4"],
  ['an empty model', [], 'model.layers', 'expected an array of at least one and at most 10000 layers, received an array of length 0'],
  ['a BatchNorm momentum of 1', [{ type: 'batchNormalization', momentum: 1 }, { type: 'flatten' }, dense5], 'model.layers[0].momentum',
    'expected a number in [0, 1), received 1'],
  ['a regulariser other than l2', [{ type: 'flatten' }, { type: 'dense', units: 5, kernelRegularizer: { l1: 0.1 } }], 'model.layers[1].kernelRegularizer.l1',
    "expected the field 'l2' (the only regulariser), received unknown field 'l1'"],
];

for (const [what, layers, option, message] of refused) {
  test(`refused: ${what}`, (t) => {
    const error = t.throws(() => describeModel({ layers }), { instanceOf: InvalidOptionError });
    t.is(error.code, 'ERR_INVALID_OPTION');
    t.is(error.option, option);
    t.is(error.message, `Invalid option ${option}: ${message}`);
  });
}

test('trainModel refuses a bad layer before any native work', async (t) => {
  const x = { dtype: 'float32', shape: [4, 28, 28], data: new Float32Array(4 * 784) };
  const error = await t.throwsAsync(trainModel({ model: { layers: [{ type: 'flatten' }, { type: 'dense', units: 3 }] }, train: { x, y: new Int32Array([0, 1, 2, 4]) }, batchSize: 2 }),
    { instanceOf: InvalidOptionError });
  t.is(error.option, 'model.layers[1].units');
});

test('defaults are Keras\'s, every field filled', (t) => {
  const { layers } = describeModel({ layers: [
    { type: 'conv2d', filters: 4, kernelSize: [3, 5] }, { type: 'batchNormalization' }, { type: 'averagePooling2d', poolSize: 3 },
    { type: 'residual', layers: [{ type: 'dropout', rate: 0.1 }] }, { type: 'flatten' }, { type: 'dense', units: 5 },
  ] });
  t.deepEqual(layers, [
    { type: 'conv2d', filters: 4, kernelSize: [3, 5], strides: [1, 1], padding: 'valid', activation: 'linear', useBias: true, kernelInitializer: 'glorotUniform', kernelRegularizer: null },
    { type: 'batchNormalization', momentum: 0.99, epsilon: 0.001 },
    { type: 'averagePooling2d', poolSize: [3, 3], strides: [3, 3], padding: 'valid' },
    { type: 'residual', layers: [{ type: 'dropout', rate: 0.1 }], shortcut: [], activation: 'linear' },
    { type: 'flatten' },
    { type: 'dense', units: 5, activation: 'linear', useBias: true, kernelInitializer: 'glorotUniform', kernelRegularizer: null },
  ]);
  t.deepEqual(describeModel({ layers }).layers, layers, 'a resolved description resolves to itself');
});

test("TensorFlow's 'same' and 'valid' output sizes", (t) => {
  const { outputShapes } = describeModel({ layers: [
    { type: 'conv2d', filters: 2, kernelSize: 3, strides: 2, padding: 'same' },   // ceil(13/2) = 7
    { type: 'maxPooling2d', poolSize: 3, strides: 2, padding: 'same' },          // ceil(7/2) = 4
    { type: 'conv2d', filters: 3, kernelSize: [2, 3], strides: [1, 2] },          // (4-2)/1+1 = 3, (4-3)/2+1 = 1
    { type: 'globalAveragePooling2d' }, { type: 'dense', units: 4 },
  ] }, { inputShape: [13, 13, 1], numClasses: 4 });
  t.deepEqual(outputShapes, [[7, 7, 2], [4, 4, 2], [3, 1, 3], [3], [4]]);
});

// Parameter counts worked out by hand, as Keras counts them (BatchNorm: 4 per channel, 2 trainable).
test('parameter counts: the presets', (t) => {
  const cnn = describeModel('cnn');
  t.is(cnn.totalParams, 33989);
  t.is(cnn.trainableParams, 30405);
  t.is(describeModel({ kind: 'resnet', depth: 2 }).totalParams, 62889);
  // depth 8: stem 4 + 160; stack 0: 64 + 2320 + 64 + 2320; stack 1: 64 + 4640 + 128 + 9248 + 544 (1x1 shortcut);
  // stack 2: 128 + 18496 + 256 + 36928 + 2112; head 7*7*64*5 + 5 = 15685.
  const depth8 = 4 + 160 + (64 + 2320 + 64 + 2320) + (64 + 4640 + 128 + 9248 + 544) + (128 + 18496 + 256 + 36928 + 2112) + 15685;
  t.is(describeModel({ kind: 'resnet', depth: 8 }).totalParams, depth8);
  t.is(describeModel({ kind: 'resnet', depth: 8 }).nonTrainableParams, (4 + 64 + 64 + 64 + 128 + 128 + 256) / 2);
});

test('parameter counts: a colour CNN without bias, a residual block, a dense-only model', (t) => {
  // conv 3*3*3*32 + 32 = 896; BN 128; conv 3*3*32*64 (no bias) = 18432; dense 64*10 + 10 = 650.
  const colour = describeModel({ layers: [
    { type: 'conv2d', filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }, { type: 'batchNormalization' },
    { type: 'maxPooling2d' }, { type: 'conv2d', filters: 64, kernelSize: 3, useBias: false }, { type: 'globalAveragePooling2d' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ] }, { inputShape: [32, 32, 3], numClasses: 10 });
  t.is(colour.totalParams, 896 + 128 + 18432 + 650);
  t.is(colour.trainableParams, 896 + 64 + 18432 + 650);
  // conv 80; residual: BN 32, conv 8*9*16 + 16 = 1168, 1x1 shortcut 128 (no bias); dense 14*14*16*5 + 5 = 15685.
  const residual = describeModel({ layers: [
    { type: 'conv2d', filters: 8, kernelSize: 3, padding: 'same' },
    { type: 'residual', layers: [{ type: 'batchNormalization' }, { type: 'activation', activation: 'relu' },
      { type: 'conv2d', filters: 16, kernelSize: 3, strides: 2, padding: 'same' }],
    shortcut: [{ type: 'conv2d', filters: 16, kernelSize: 1, strides: 2, useBias: false }], activation: 'relu' },
    { type: 'flatten' }, dense5,
  ] });
  t.is(residual.totalParams, 80 + 32 + 1168 + 128 + 15685);
  t.is(residual.nonTrainableParams, 16);
  t.is(describeModel({ layers: [{ type: 'flatten' }, { type: 'dense', units: 10 }] }, { inputShape: [32, 32, 3], numClasses: 10 }).totalParams, 30730);
});

const stripConfig = (rows) => rows.map(({ config, ...rest }) => rest);

test('the presets expand to the same layer table as their own native classes', (t) => {
  for (const [spec, kind, depth] of [['cnn', 'cnn', 0], [{ kind: 'resnet', depth: 2 }, 'resnet', 2], [{ kind: 'resnet', depth: 8 }, 'resnet', 8]]) {
    const described = describeModel(spec).summary.layers;
    const real = native().describeModel({ kind, depth, numClasses: 5, channels: 1, height: 28, width: 28 }).layers;
    t.deepEqual(stripConfig(described), stripConfig(real), JSON.stringify(spec));
  }
});

test('the native model holds exactly the described parameters, under torch.nn names', (t) => {
  const layers = [
    { type: 'conv2d', filters: 8, kernelSize: 3, padding: 'same' }, { type: 'activation', activation: 'gelu' },
    { type: 'residual', layers: [{ type: 'batchNormalization' }, { type: 'conv2d', filters: 16, kernelSize: 3, strides: 2, padding: 'same' }],
      shortcut: [{ type: 'conv2d', filters: 16, kernelSize: 1, strides: 2, useBias: false }], activation: 'leakyRelu' },
    { type: 'dropout', rate: 0.2 }, { type: 'flatten' }, { type: 'batchNormalization' }, dense5,
  ];
  const spec = nativeModelSpec({ kind: 'layers', depth: 0, layers }, 5, [1, 28, 28]);
  const real = native().describeModel(spec);
  const described = describeModel({ layers });
  t.is(real.trainableParams + real.nonTrainableParams, described.totalParams);
  t.deepEqual(real.outputShape, [2, 5]);
  t.deepEqual(stripConfig(real.layers), stripConfig(described.summary.layers));
  t.deepEqual(Object.keys(native()._initialWeights(spec, 0)), [
    'layers.0.weight', 'layers.0.bias', 'layers.2.body.0.weight', 'layers.2.body.0.bias', 'layers.2.body.1.weight',
    'layers.2.body.1.bias', 'layers.2.shortcut.0.weight', 'layers.5.weight', 'layers.5.bias', 'layers.6.weight', 'layers.6.bias',
  ]);
});

test('kernel initialisers: Keras limits and truncation', (t) => {
  const layers = ['glorotUniform', 'heUniform', 'heNormal', 'glorotNormal'].map((kernelInitializer) =>
    ({ type: 'conv2d', filters: 64, kernelSize: 3, padding: 'same', kernelInitializer }));
  const spec = nativeModelSpec({ kind: 'layers', depth: 0, layers: [...layers, { type: 'globalAveragePooling2d' }, dense5] }, 5, [64, 8, 8]);
  const w = native()._initialWeights(spec, 3);
  const fanIn = 64 * 9;
  const fanOut = 64 * 9;
  const maxAbs = (a) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const std = (a) => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
  t.true(maxAbs(w['layers.0.weight']) <= Math.sqrt(6 / (fanIn + fanOut)));
  t.true(maxAbs(w['layers.1.weight']) <= Math.sqrt(6 / fanIn) && maxAbs(w['layers.1.weight']) > 0.99 * Math.sqrt(6 / fanIn));
  for (const [name, variance] of [['layers.2.weight', 2 / fanIn], ['layers.3.weight', 2 / (fanIn + fanOut)]]) {
    const sigma = Math.sqrt(variance) / 0.87962566103423978;
    t.true(maxAbs(w[name]) <= 2 * sigma * (1 + 1e-6), `${name} truncated at 2 sigma`);
    t.true(Math.abs(std(w[name]) - Math.sqrt(variance)) < 0.03 * Math.sqrt(variance), `${name} has variance ${variance}`);
  }
});

test('resolveLayers names paths under the prefix it is given', (t) => {
  const error = t.throws(() => resolveLayers([{ type: 'flatten' }, { type: 'dense', units: 0 }], [1, 8, 8], 2, 'layers'));
  t.is(error.option, 'layers[1].units');
  t.is(resolveLayers(cnnLayers(5), [1, 28, 28], 5).nodes[8].outputShape.join(), '1600');
});

test('the CLI prints the summary of a layers description file, with a branching graph\'s links', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const dir = mkdtempSync(join(tmpdir(), 'torchfit-layers-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'model.json');
  writeFileSync(file, JSON.stringify({ inputShape: [32, 32, 3], numClasses: 10, layers: [
    { type: 'conv2d', filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' },
    { type: 'residual', layers: [{ type: 'batchNormalization' }, { type: 'conv2d', filters: 8, kernelSize: 3, padding: 'same' }], activation: 'relu' },
    { type: 'globalAveragePooling2d' }, { type: 'dense', units: 10, activation: 'softmax' },
  ] }));
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('../dist/cli.js', import.meta.url)), 'summary', '--layers', file], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^Model: "model"/);
  t.regex(r.stdout, /add \(Add\) +\(None, 32, 32, 8\) +0 +conv2d\[0\]\[0\]/);
  // conv 3*9*8 + 8 = 224; BN 32; conv 8*9*8 + 8 = 584; dense 8*10 + 10 = 90.
  t.regex(r.stdout, /Total params: 930\n/);
});

test('a preset on an image too small for it names the input shape', (t) => {
  const error = t.throws(() => describeModel('cnn', { inputShape: [9, 9, 1] }), { instanceOf: InvalidOptionError });
  t.is(error.option, 'inputShape');
  t.is(error.message, "Invalid option inputShape: expected an image the 'cnn' preset can take (Invalid option model.layers[6].poolSize: expected a pool no larger than its 1x1 input with 'valid' padding (the output would have no pixels; use padding 'same' or a smaller window), received 2x2), received 9x9x1");
  t.is(describeModel('cnn', { inputShape: [10, 10, 3], numClasses: 3 }).outputShapes.at(-1)[0], 3, '10x10 is the smallest');
});
