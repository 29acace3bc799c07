// The convolution engine's comparison cases (test/kernels-engine.test.js), shared with the child
// process that runs them under a lower oneDNN instruction set (test/support/engine-run.mjs).
const resnet = (depth, size = 28) => ({ kind: 'resnet', depth, numClasses: 5, channels: 1, height: size, width: size });
const cnn = (size = 28) => ({ kind: 'cnn', depth: 0, numClasses: 5, channels: 1, height: size, width: size });

export const cases = [
  // Convolutions: ResNet's and the CNN's shapes, then odd ones.
  { name: 'ResNet block conv 16->16, same, + residual + ReLU', spec: { op: 'conv_blocked', batch: 2, channels: 16, outChannels: 16, height: 28, width: 28, residual: true, relu: true } },
  { name: 'stride 2 on an even size (TF pads bottom/right only), 16->32', spec: { op: 'conv_blocked', batch: 3, channels: 16, outChannels: 32, height: 28, width: 28, stride: 2 } },
  { name: 'stride 2 on an odd size, one image', spec: { op: 'conv_blocked', batch: 1, channels: 16, outChannels: 32, height: 15, width: 15, stride: 2, relu: true } },
  { name: '1x1 shortcut, stride 2, even size', spec: { op: 'conv_blocked', batch: 2, channels: 16, outChannels: 32, height: 14, width: 14, kernel: 1, stride: 2 } },
  { name: '1x1 shortcut, stride 2, odd size', spec: { op: 'conv_blocked', batch: 3, channels: 32, outChannels: 64, height: 7, width: 7, kernel: 1, stride: 2 } },
  { name: "the CNN's conv2 (32->64, valid, 13x13)", spec: { op: 'conv_blocked', batch: 2, channels: 32, outChannels: 64, height: 13, width: 13, padding: 'valid' } },
  { name: 'channels off the block (3->5), valid, 5x7, ReLU', spec: { op: 'conv_blocked', batch: 2, channels: 3, outChannels: 5, height: 5, width: 7, padding: 'valid', relu: true } },
  { name: 'channels off the block (20->24), same, residual', spec: { op: 'conv_blocked', batch: 3, channels: 20, outChannels: 24, height: 9, width: 6, residual: true, relu: true } },
  { name: '5x5 kernel, same, stride 2, odd and even sides', spec: { op: 'conv_blocked', batch: 2, channels: 8, outChannels: 16, height: 11, width: 10, kernel: 5, stride: 2 } },
  { name: '64 channels on 1x1 images', spec: { op: 'conv_blocked', batch: 3, channels: 64, outChannels: 64, height: 1, width: 1, residual: true } },
  // BatchNorm (+ ReLU), training and inference.
  { name: 'BatchNorm + ReLU, 16 channels, 28x28', spec: { op: 'bn_blocked', batch: 2, channels: 16, height: 28, width: 28, relu: true } },
  { name: 'BatchNorm, channels off the block (20), 5x7', spec: { op: 'bn_blocked', batch: 3, channels: 20, height: 5, width: 7 } },
  { name: 'BatchNorm + ReLU, 64 channels of 1x1, batch 2', spec: { op: 'bn_blocked', batch: 2, channels: 64, height: 1, width: 1, relu: true } },
  { name: 'BatchNorm + ReLU inference (running statistics)', spec: { op: 'bn_blocked', batch: 3, channels: 24, height: 7, width: 7, relu: true, training: false } },
  { name: 'BatchNorm inference, one image', spec: { op: 'bn_blocked', batch: 1, channels: 16, height: 5, width: 5, training: false } },
  // Whole training steps. SGD: Adam's first steps move each weight by about lr * sign(gradient),
  // so a gradient near zero turns float32 rounding into a full step; its case compares the
  // first step's logits, loss and gradients only (gradientsOnly).
  { name: 'ResNet depth 8, 3 SGD steps', spec: { op: 'model', batch: 3, model: resnet(8), optimizer: 'sgd', learningRate: 0.05, steps: 3 } },
  { name: 'ResNet depth 8 on 13x13 images (13 -> 7 -> 4), batch 2', spec: { op: 'model', batch: 2, model: resnet(8, 13), optimizer: 'sgd', learningRate: 0.05, steps: 2 } },
  { name: 'ResNet depth 20, 2 SGD steps', spec: { op: 'model', batch: 2, model: resnet(20), optimizer: 'sgd', learningRate: 0.05, steps: 2 } },
  { name: 'ResNet depth 20, Adam: first step', gradientsOnly: true, spec: { op: 'model', batch: 4, model: resnet(20), optimizer: 'adam', learningRate: 0.001, steps: 1 } },
  { name: 'ResNet depth 2 (no blocks: the engine stays out)', spec: { op: 'model', batch: 3, model: resnet(2), optimizer: 'adam', learningRate: 0.001, steps: 2 } },
  { name: 'CNN, 3 SGD steps', spec: { op: 'model', batch: 4, model: cnn(), optimizer: 'sgd', learningRate: 0.01, steps: 3 } },
];

export const expectedNames = (spec) => {
  if (spec.op === 'conv_blocked') return ['output', 'grad_input', 'grad_weight', 'grad_bias', 'grad_residual'];
  if (spec.op === 'bn_blocked') {
    return spec.training === false ? ['output', 'running_mean', 'running_var']
      : ['output', 'running_mean', 'running_var', 'grad_input', 'grad_gamma', 'grad_beta'];
  }
  return null;
};

const FLOAT32_EPSILON = 2 ** -23;
const kindOf = (name) => name.split(' ')[0];

// As test/kernels.test.js: the engine's float32 result about as close to float64 as libtorch's
// own float32 result; values that are zero in exact arithmetic may carry rounding noise at the
// scale of the largest value of their kind. Whole models get a relative 5e-5 more: oneDNN sums
// BatchNorm's statistics and gradients in float32 where libtorch's CPU BatchNorm sums in
// double, and through 20 layers of backpropagation that shows at 1e-5 to 3e-5.
export function accuracyProblems(diffs, { model = false, gradientsOnly = false } = {}) {
  const problems = [];
  if (diffs.length === 0) problems.push('nothing was compared');
  const judged = gradientsOnly ? diffs.filter((d) => !d.name.startsWith('final ') && d.name !== 'eval logits') : diffs;
  const scale = {};
  for (const d of judged) scale[kindOf(d.name)] = Math.max(scale[kindOf(d.name)] ?? 0, d.refMax);
  for (const d of judged) {
    const allowed = 4 * d.plainErr + (model ? 5e-5 : 4e-6) * d.refMax + FLOAT32_EPSILON * scale[kindOf(d.name)];
    if (!(d.fusedErr <= allowed)) {
      problems.push(`${d.name}: |engine - float64| = ${d.fusedErr} > ${allowed} (|plain - float64| = ${d.plainErr}, scale ${d.refMax})`);
    }
  }
  return problems;
}
