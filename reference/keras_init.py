"""Keras 2 default initialisers, in PyTorch terms (docs/parity.md lists them).

- glorot_uniform (Keras's default kernel init for Conv2D and Dense):
  U(-a, a), a = sqrt(6 / (fan_in + fan_out)), conv fans include kh*kw.
  This is exactly torch.nn.init.xavier_uniform_.
- he_normal: a *truncated* normal cut at +-2 sigma, with
  sigma = sqrt(2 / fan_in) / 0.87962566 (the std of a unit normal truncated
  at +-2, so that the truncated draw keeps variance 2 / fan_in).
- biases start at zero.
"""
import math

import torch
from torch import nn

# std of a standard normal truncated to [-2, 2]
_TRUNC_STD = 0.87962566103423978


def fan_in(weight):
    """fan_in as Keras computes it: in_channels * kh * kw for conv, in_features for dense."""
    fan, _ = nn.init._calculate_fan_in_and_fan_out(weight)
    return fan


def glorot_uniform_(weight):
    return nn.init.xavier_uniform_(weight)


def he_normal_(weight):
    sigma = math.sqrt(2.0 / fan_in(weight)) / _TRUNC_STD
    return nn.init.trunc_normal_(weight, mean=0.0, std=sigma, a=-2.0 * sigma, b=2.0 * sigma)


def init_glorot(module):
    """Keras defaults for a Conv2d / Linear: glorot_uniform kernel, zero bias."""
    glorot_uniform_(module.weight)
    if module.bias is not None:
        nn.init.zeros_(module.bias)
    return module


def init_he(module):
    """he_normal (truncated) kernel, zero bias."""
    he_normal_(module.weight)
    if module.bias is not None:
        nn.init.zeros_(module.bias)
    return module


def keras_batchnorm(num_features, dims=2):
    """Keras BatchNormalization(momentum=0.99, epsilon=1e-3) == PyTorch momentum 0.01."""
    cls = nn.BatchNorm2d if dims == 2 else nn.BatchNorm1d
    return cls(num_features, eps=1e-3, momentum=0.01)


@torch.no_grad()
def _selftest():  # pragma: no cover - quick manual check
    w = torch.empty(16, 1, 3, 3)
    he_normal_(w)
    sigma = math.sqrt(2.0 / 9) / _TRUNC_STD
    assert w.abs().max() <= 2 * sigma + 1e-6
    print("he_normal std", w.std().item(), "target", math.sqrt(2.0 / 9))


if __name__ == "__main__":
    _selftest()
