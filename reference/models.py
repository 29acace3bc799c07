"""The notebook's two models as PyTorch modules (the semantics are listed in docs/parity.md).

Both return *logits*; the Keras softmax is folded into the loss (cross_entropy).
Flatten uses PyTorch's (C, H, W) order. That only matters when weights are
exchanged with Keras itself (which flattens (H, W, C)).
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

from keras_init import init_glorot, init_he, keras_batchnorm

L2 = 1e-4


class CNN(nn.Module):
    """model_cnn5: Conv(32) sigmoid -> BN -> MaxPool -> BN -> Conv(64) sigmoid -> BN ->
    MaxPool -> BN -> Flatten -> BN -> Dense(5)."""

    def __init__(self, num_classes=5):
        super().__init__()
        self.conv1 = init_glorot(nn.Conv2d(1, 32, 3))
        self.bn1 = keras_batchnorm(32)
        self.pool1 = nn.MaxPool2d(2)
        self.bn2 = keras_batchnorm(32)
        self.conv2 = init_glorot(nn.Conv2d(32, 64, 3))
        self.bn3 = keras_batchnorm(64)
        self.pool2 = nn.MaxPool2d(2)
        self.bn4 = keras_batchnorm(64)
        self.bn5 = keras_batchnorm(64 * 5 * 5, dims=1)
        self.fc = init_glorot(nn.Linear(64 * 5 * 5, num_classes))

    def forward(self, x):
        x = self.bn1(torch.sigmoid(self.conv1(x)))   # 26x26x32
        x = self.bn2(self.pool1(x))                  # 13x13x32
        x = self.bn3(torch.sigmoid(self.conv2(x)))   # 11x11x64
        x = self.bn4(self.pool2(x))                  # 5x5x64
        x = self.bn5(torch.flatten(x, 1))            # 1600
        return self.fc(x)

    def regularization_loss(self):
        return None


def _same_pad(size, kernel, stride):
    """TensorFlow 'same' padding for one dimension: (before, after), extra goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class ResnetLayer(nn.Module):
    """The notebook's resnet_layer with conv_first=False: [BN] -> [activation] -> Conv2D('same',
    he_normal, l2(1e-4))."""

    def __init__(self, in_channels, num_filters=16, kernel_size=3, strides=1,
                 activation="relu", batch_normalization=True):
        super().__init__()
        self.bn = keras_batchnorm(in_channels) if batch_normalization else None
        if activation not in (None, "relu"):
            raise ValueError(f"unsupported activation {activation!r}")
        self.activation = activation
        self.kernel_size = kernel_size
        self.stride = strides
        # stride 1, odd kernel: 'same' is symmetric and PyTorch's padding does it.
        pad = (kernel_size - 1) // 2 if strides == 1 else 0
        self.conv = init_he(nn.Conv2d(in_channels, num_filters, kernel_size,
                                      stride=strides, padding=pad))

    def forward(self, x):
        if self.bn is not None:
            x = self.bn(x)
        if self.activation == "relu":
            x = F.relu(x)
        if self.stride != 1:
            ph = _same_pad(x.shape[2], self.kernel_size, self.stride)
            pw = _same_pad(x.shape[3], self.kernel_size, self.stride)
            if any(ph) or any(pw):
                # TF pads the extra row/column bottom/right: (0,1,0,1) for 3x3/2 on even sizes
                x = F.pad(x, (pw[0], pw[1], ph[0], ph[1]))
        return self.conv(x)


class ResBlock(nn.Module):
    def __init__(self, in_channels, num_filters, strides):
        super().__init__()
        self.layer1 = ResnetLayer(in_channels, num_filters, strides=strides)
        self.layer2 = ResnetLayer(num_filters, num_filters, activation=None)
        self.shortcut = None
        if strides != 1 or in_channels != num_filters:
            self.shortcut = ResnetLayer(in_channels, num_filters, kernel_size=1, strides=strides,
                                        activation=None, batch_normalization=False)

    def forward(self, x):
        y = self.layer2(self.layer1(x))
        if self.shortcut is not None:
            x = self.shortcut(x)
        return F.relu(x + y)


class ResNetV1(nn.Module):
    """resnet_v1(input_shape, depth, num_classes): depth = 6n + 2; no average pooling."""

    def __init__(self, depth=2, num_classes=5, in_channels=1, input_size=(28, 28)):
        super().__init__()
        if depth < 2 or (depth - 2) % 6 != 0:
            raise ValueError(f"ResNet v1 depth must be 6n+2 (2, 8, 14, 20, ...), got {depth}")
        n = (depth - 2) // 6
        num_filters = 16
        self.stem = ResnetLayer(in_channels, num_filters)
        h, w = input_size
        channels = num_filters
        blocks = []
        for stack in range(3):
            for b in range(n):
                strides = 2 if (stack > 0 and b == 0) else 1
                blocks.append(ResBlock(channels, num_filters, strides))
                channels = num_filters
                if strides == 2:
                    h, w = -(-h // 2), -(-w // 2)
            num_filters *= 2
        self.stacks = nn.ModuleList(blocks)
        self.fc = init_he(nn.Linear(channels * h * w, num_classes))
        self.flat_features = channels * h * w

    def forward(self, x):
        x = self.stem(x)
        for block in self.stacks:
            x = block(x)
        return self.fc(torch.flatten(x, 1))

    def l2_kernels(self):
        return [m.conv.weight for m in self.modules() if isinstance(m, ResnetLayer)]

    def regularization_loss(self):
        return L2 * sum(w.pow(2).sum() for w in self.l2_kernels())


class ReluCNN(nn.Module):
    """A relu CNN as a user would write it (torchfit's layers-API benchmark network):
    Conv(32, 3, same) relu -> BN -> MaxPool -> Conv(64, 3, same) relu -> BN -> MaxPool ->
    Flatten -> Dense(classes). Keras initialisers and BatchNorm settings, like the others."""

    def __init__(self, num_classes=5):
        super().__init__()
        self.conv1 = init_glorot(nn.Conv2d(1, 32, 3, padding=1))
        self.bn1 = keras_batchnorm(32)
        self.conv2 = init_glorot(nn.Conv2d(32, 64, 3, padding=1))
        self.bn2 = keras_batchnorm(64)
        self.fc = init_glorot(nn.Linear(64 * 7 * 7, num_classes))

    def forward(self, x):
        x = F.max_pool2d(self.bn1(F.relu(self.conv1(x))), 2)   # 14x14x32
        x = F.max_pool2d(self.bn2(F.relu(self.conv2(x))), 2)   # 7x7x64
        return self.fc(torch.flatten(x, 1))

    def regularization_loss(self):
        return None


def param_counts(model):
    """Keras-style counts: trainable = weights + BN gamma/beta; non-trainable = BN moving
    mean/var (num_batches_tracked is PyTorch bookkeeping and not counted)."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    stats = sum(b.numel() for name, b in model.named_buffers()
                if name.endswith("running_mean") or name.endswith("running_var"))
    return {"total": trainable + frozen + stats, "trainable": trainable,
            "non_trainable": frozen + stats}


def build_model(name, depth=2, num_classes=5):
    if name == "cnn":
        return CNN(num_classes)
    if name == "resnet":
        return ResNetV1(depth, num_classes)
    if name == "relu_cnn":
        return ReluCNN(num_classes)
    raise ValueError(f"unknown model {name!r} (expected cnn, resnet or relu_cnn)")
