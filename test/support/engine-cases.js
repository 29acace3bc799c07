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
  // Winograd on AVX-512 (oneDNN's F(4x4, 3x3)): the weight gradient of stride-1 3x3 layers in
  // whole 16-lane blocks, the forward and input gradient too from 64 channels.
  { name: 'Winograd weight gradient: 32->32, same, 14x14', spec: { op: 'conv_blocked', batch: 3, channels: 32, outChannels: 32, height: 14, width: 14, relu: true } },
  { name: 'Winograd in all three passes: 64->64, same, 7x7, ReLU', spec: { op: 'conv_blocked', batch: 3, channels: 64, outChannels: 64, height: 7, width: 7, relu: true } },
  { name: 'Winograd: 128->128, same, 9x6, one image', spec: { op: 'conv_blocked', batch: 1, channels: 128, outChannels: 128, height: 9, width: 6 } },
  // The engine's own Winograd (F(4x4, 3x3), forward and input gradient) from 32 channels in and
  // out, on problems of at least 64 tiles: partial tiles at the edges, 'valid' padding, the
  // residual add and the ReLU in its output transform.
  { name: 'own Winograd: 64->64, same, 7x7, residual + ReLU, batch 16', spec: { op: 'conv_blocked', batch: 16, channels: 64, outChannels: 64, height: 7, width: 7, residual: true, relu: true } },
  { name: 'own Winograd: 32->32, same, 15x11, ReLU, batch 6', spec: { op: 'conv_blocked', batch: 6, channels: 32, outChannels: 32, height: 15, width: 11, relu: true } },
  { name: "own Winograd: the CNN's conv2 (32->64, valid, 13x13), batch 8", spec: { op: 'conv_blocked', batch: 8, channels: 32, outChannels: 64, height: 13, width: 13, padding: 'valid' } },
  { name: '64 channels on 1x1 images', spec: { op: 'conv_blocked', batch: 3, channels: 64, outChannels: 64, height: 1, width: 1, residual: true } },
  // BatchNorm (+ ReLU), training and inference.
  { name: 'BatchNorm + ReLU, 16 channels, 28x28', spec: { op: 'bn_blocked', batch: 2, channels: 16, height: 28, width: 28, relu: true } },
  { name: 'BatchNorm, channels off the block (20), 5x7', spec: { op: 'bn_blocked', batch: 3, channels: 20, height: 5, width: 7 } },
  { name: 'BatchNorm + ReLU, 64 channels of 1x1, batch 2', spec: { op: 'bn_blocked', batch: 2, channels: 64, height: 1, width: 1, relu: true } },
  { name: 'BatchNorm + ReLU inference (running statistics)', spec: { op: 'bn_blocked', batch: 3, channels: 24, height: 7, width: 7, relu: true, training: false } },
  { name: 'BatchNorm inference, one image', spec: { op: 'bn_blocked', batch: 1, channels: 16, height: 5, width: 5, training: false } },
  // A whole residual block as one op (training): BatchNorm + ReLU, convolution, BatchNorm,
  // convolution + shortcut + ReLU; the mask contract between blocks both ways.
  { name: 'block 16->16 between two blocks (input a ReLU output, gradient pre-masked)', spec: { op: 'block_blocked', batch: 3, channels: 16, outChannels: 16, height: 28, width: 28, inputRelu: true, gradOutMasked: true } },
  { name: 'block 16->16, first and last (no mask contract), 9x7, one image', spec: { op: 'block_blocked', batch: 1, channels: 16, outChannels: 16, height: 9, width: 7 } },
  { name: 'block 16->32 stride 2 on an even size, 1x1 projection', spec: { op: 'block_blocked', batch: 2, channels: 16, outChannels: 32, height: 14, width: 14, stride: 2, inputRelu: true, gradOutMasked: true } },
  { name: 'block 20->24 stride 2 on odd sizes (channels off the block)', spec: { op: 'block_blocked', batch: 3, channels: 20, outChannels: 24, height: 15, width: 13, stride: 2, inputRelu: true } },
  { name: 'block 64->64, 7x7 (Winograd on AVX-512)', spec: { op: 'block_blocked', batch: 2, channels: 64, outChannels: 64, height: 7, width: 7, inputRelu: true, gradOutMasked: true } },
  { name: 'block 64->64, 7x7, batch 16 (own Winograd)', spec: { op: 'block_blocked', batch: 16, channels: 64, outChannels: 64, height: 7, width: 7, inputRelu: true, gradOutMasked: true } },
  { name: 'block 64->64 on 1x1 images, batch 2', spec: { op: 'block_blocked', batch: 2, channels: 64, outChannels: 64, height: 1, width: 1, gradOutMasked: true } },
  // Whole training steps. SGD: Adam's first steps move each weight by about lr * sign(gradient),
  // so a gradient near zero turns float32 rounding into a full step; its case compares the
  // first step's logits, loss and gradients only (gradientsOnly).
  { name: 'ResNet depth 8, 3 SGD steps', spec: { op: 'model', batch: 3, model: resnet(8), optimizer: 'sgd', learningRate: 0.05, steps: 3 } },
  { name: 'ResNet depth 8 on 13x13 images (13 -> 7 -> 4), batch 2', spec: { op: 'model', batch: 2, model: resnet(8, 13), optimizer: 'sgd', learningRate: 0.05, steps: 2 } },
  { name: 'ResNet depth 8, batch 16 (own Winograd at 32 and 64 channels), 2 SGD steps', spec: { op: 'model', batch: 16, model: resnet(8), optimizer: 'sgd', learningRate: 0.05, steps: 2 } },
  { name: 'ResNet depth 20, 2 SGD steps', spec: { op: 'model', batch: 2, model: resnet(20), optimizer: 'sgd', learningRate: 0.05, steps: 2 } },
  { name: 'ResNet depth 20, Adam: first step', gradientsOnly: true, spec: { op: 'model', batch: 4, model: resnet(20), optimizer: 'adam', learningRate: 0.001, steps: 1 } },
  { name: 'ResNet depth 2 (no blocks: the engine stays out)', spec: { op: 'model', batch: 3, model: resnet(2), optimizer: 'adam', learningRate: 0.001, steps: 2 } },
  { name: 'CNN, 3 SGD steps', spec: { op: 'model', batch: 4, model: cnn(), optimizer: 'sgd', learningRate: 0.01, steps: 3 } },
];

export const expectedNames = (spec) => {
  if (spec.op === 'conv_blocked') return ['output', 'grad_input', 'grad_weight', 'grad_bias', 'grad_residual'];
  if (spec.op === 'block_blocked') {
    return ['output', 'grad_input', 'grad_gamma1', 'grad_beta1', 'grad_weight1', 'grad_bias1', 'grad_gamma2', 'grad_beta2',
      'grad_weight2', 'grad_bias2', 'running_mean1', 'running_var1', 'running_mean2', 'running_var2',
      'grad_weight_shortcut', 'grad_bias_shortcut'];
  }
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
// scale of the largest value of their kind. Whole models get a relative 1e-5 more: oneDNN's
// convolutions sum their gradients in float32 in another order than libtorch's, and through
// 20 layers of backpropagation that shows at up to 3e-6 (BatchNorm sums in double on both
// sides).
export function accuracyProblems(diffs, { model = false, gradientsOnly = false } = {}) {
  const problems = [];
  if (diffs.length === 0) problems.push('nothing was compared');
  const judged = gradientsOnly ? diffs.filter((d) => !d.name.startsWith('final ') && d.name !== 'eval logits') : diffs;
  const scale = {};
  for (const d of judged) scale[kindOf(d.name)] = Math.max(scale[kindOf(d.name)] ?? 0, d.refMax);
  for (const d of judged) {
    // A value zero in exact arithmetic (a convolution's bias gradient under a BatchNorm) is
    // pure summation noise on both sides, and libtorch's own noise swings 5x with the
    // instruction set (0.9e-6 to 4.5e-6 for ResNet-20's first one), so it gets 8 epsilons of
    // its kind's scale rather than a multiple of libtorch's.
    const zero = d.refMax <= 1e-9 * scale[kindOf(d.name)];
    const allowed = 4 * d.plainErr + (model ? 1e-5 : 4e-6) * d.refMax + (zero ? 8 : 1) * FLOAT32_EPSILON * scale[kindOf(d.name)];
    if (!(d.fusedErr <= allowed)) {
      problems.push(`${d.name}: |engine - float64| = ${d.fusedErr} > ${allowed} (|plain - float64| = ${d.plainErr}, scale ${d.refMax})`);
    }
  }
  return problems;
}
