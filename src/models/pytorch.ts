/**
 * PyTorch source for a layers model: an nn.Module whose `layers` ModuleList has
 * one entry per layer (residual blocks: `body` and `shortcut` lists), so a
 * torchfit checkpoint's state_dict loads into it with strict=True. Its forward
 * returns logits (a final softmax is left out, as torchfit folds it into the
 * loss): apply torch.softmax(out, 1) for the probabilities predict() gives.
 */
import { InvalidOptionError } from '../errors.js';
import type { ActivationName, ResolvedLayer } from './layers.js';
import { torchMomentum } from './native-spec.js';
import { resolveLayers, type ResolvedNode } from './resolve.js';

const PRELUDE = `import torch
import torch.nn.functional as F
from torch import nn


def _same_padding(size, kernel, stride):
    """TensorFlow's 'same' padding along one axis: (before, after), the odd one after."""
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _pad(x, kernel, stride, same, value=0.0):
    if not same:
        return x
    top, bottom = _same_padding(x.shape[2], kernel[0], stride[0])
    left, right = _same_padding(x.shape[3], kernel[1], stride[1])
    return F.pad(x, (left, right, top, bottom), value=value)


def _activate(x, name):
    if name == "relu":
        return F.relu(x)
    if name == "sigmoid":
        return torch.sigmoid(x)
    if name == "tanh":
        return torch.tanh(x)
    if name == "softmax":
        return torch.softmax(x, 1)
    if name == "elu":
        return F.elu(x)
    if name == "gelu":
        return F.gelu(x)
    if name == "leakyRelu":
        return F.leaky_relu(x, 0.2)
    return x


class Conv2d(nn.Conv2d):
    """Keras Conv2D: TensorFlow's padding, then the activation."""

    def __init__(self, in_channels, filters, kernel, stride, same, bias, activation):
        super().__init__(in_channels, filters, kernel, stride=stride, bias=bias)
        self.same, self.activation = same, activation

    def forward(self, x):
        return _activate(super().forward(_pad(x, self.kernel_size, self.stride, self.same)), self.activation)


class Dense(nn.Linear):
    def __init__(self, in_features, units, bias, activation):
        super().__init__(in_features, units, bias=bias)
        self.activation = activation

    def forward(self, x):
        return _activate(super().forward(x), self.activation)


class Activation(nn.Module):
    def __init__(self, activation):
        super().__init__()
        self.activation = activation

    def forward(self, x):
        return _activate(x, self.activation)


class Pool2d(nn.Module):
    """Keras MaxPooling2D / AveragePooling2D; 'same' averages over the pixels inside the image only."""

    def __init__(self, kind, pool, stride, same):
        super().__init__()
        self.kind, self.pool, self.stride, self.same = kind, pool, stride, same

    def forward(self, x):
        if self.kind == "max":
            return F.max_pool2d(_pad(x, self.pool, self.stride, self.same, float("-inf")), self.pool, self.stride)
        sums = F.avg_pool2d(_pad(x, self.pool, self.stride, self.same), self.pool, self.stride)
        if not self.same:
            return sums
        ones = torch.ones(1, 1, x.shape[2], x.shape[3], dtype=x.dtype, device=x.device)
        return sums / F.avg_pool2d(_pad(ones, self.pool, self.stride, True), self.pool, self.stride)


class GlobalAveragePooling2d(nn.Module):
    def forward(self, x):
        return x.mean((2, 3))


class Residual(nn.Module):
    """activation(body(x) + shortcut(x)); an empty shortcut is the identity."""

    def __init__(self, body, shortcut, activation):
        super().__init__()
        self.body, self.shortcut, self.activation = nn.ModuleList(body), nn.ModuleList(shortcut), activation

    def forward(self, x):
        y = x
        for layer in self.body:
            y = layer(y)
        skip = x
        for layer in self.shortcut:
            skip = layer(skip)
        return _activate(skip + y, self.activation)
`;

const py = (v: number | boolean) => (typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v));
const pair = (v: [number, number]) => `(${v[0]}, ${v[1]})`;

function moduleOf(node: ResolvedNode, indent: string, last: boolean): string {
  const l = node.layer;
  const act = (a: ActivationName) => JSON.stringify(last && a === 'softmax' ? 'linear' : a);
  switch (l.type) {
    case 'conv2d':
      return `Conv2d(${node.inputShape[0]}, ${l.filters}, ${pair(l.kernelSize)}, ${pair(l.strides)}, ${py(l.padding === 'same')}, ${py(l.useBias)}, ${act(l.activation)})`;
    case 'dense':
      return `Dense(${node.inputShape[0]}, ${l.units}, ${py(l.useBias)}, ${act(l.activation)})`;
    case 'batchNormalization':
      return `nn.BatchNorm${node.inputShape.length === 3 ? 2 : 1}d(${node.inputShape[0]}, eps=${l.epsilon}, momentum=${torchMomentum(l.momentum)})`;
    case 'activation':
      return `Activation(${act(l.activation)})`;
    case 'maxPooling2d':
    case 'averagePooling2d':
      return `Pool2d(${JSON.stringify(l.type === 'maxPooling2d' ? 'max' : 'avg')}, ${pair(l.poolSize)}, ${pair(l.strides)}, ${py(l.padding === 'same')})`;
    case 'globalAveragePooling2d':
      return 'GlobalAveragePooling2d()';
    case 'flatten':
      return 'nn.Flatten()';
    case 'dropout':
      return `nn.Dropout(${l.rate})`;
    case 'residual': {
      const inner = indent + '    ';
      const list = (nodes: ResolvedNode[]) =>
        nodes.length === 0 ? '[]' : `[\n${nodes.map((n) => `${inner}    ${moduleOf(n, inner + '    ', false)},\n`).join('')}${inner}]`;
      return `Residual(\n${inner}${list(node.body!)},\n${inner}${list(node.shortcut!)},\n${inner}${act(l.activation)},\n${indent})`;
    }
  }
}

export interface PytorchSourceOptions {
  /** [height, width, channels]. Default [28, 28, 1]. */
  inputShape?: [number, number, number];
  /** Default 5. */
  numClasses?: number;
  /** Name of the generated class. Default 'TorchfitModel'. */
  className?: string;
}

/**
 * Python source of a torch.nn.Module equal to a layers model (same state_dict names,
 * same forward), to use torchfit's weights from PyTorch.
 *
 * @example
 * const source = pytorchSource(model.config.layers, { inputShape: [28, 28, 1], numClasses: 5 });
 * // python: m = TorchfitModel(); m.load_state_dict(torch.load('model.pt')['state_dict']); m.eval()
 */
export function pytorchSource(layers: readonly ResolvedLayer[] | readonly unknown[], options: PytorchSourceOptions = {}): string {
  const [h, w, c] = options.inputShape ?? [28, 28, 1];
  const numClasses = options.numClasses ?? 5;
  const className = options.className ?? 'TorchfitModel';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(className)) throw new InvalidOptionError('className', 'a Python identifier', className);
  const resolved = resolveLayers(layers, [c, h, w], numClasses);
  const entries = resolved.nodes.map((n, i) => `            ${moduleOf(n, '            ', i === resolved.nodes.length - 1)},  # ${i}\n`).join('');
  return `${PRELUDE}

class ${className}(nn.Module):
    """Input (N, ${c}, ${h}, ${w}); returns logits of ${numClasses} classes (torch.softmax(out, 1) for probabilities)."""

    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([
${entries}        ])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
`;
}
