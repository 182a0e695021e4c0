"""From numpy to PyTorch and back: the same network, the same weights.

    module = to_torch(model)      # a torch.nn.Sequential with copied weights
    model = from_torch(module)    # a lenet Sequential with copied weights

Only layers that exist on both sides convert. The one difference in storage: lenet's Linear keeps
W as (in, out) and computes x @ W + b; torch's keeps weight as (out, in) and computes
x @ weight.T + bias, so W is transposed on the way. torch is imported only when needed.
"""

import numpy as np

from lenet import layers as L
from lenet.models import Sequential

__all__ = ["to_torch", "from_torch", "LAYER_MAP"]

# lenet layer -> (torch.nn counterpart, what to know when converting)
LAYER_MAP = {
    "Linear": ("nn.Linear", "W (in, out) is torch's weight (out, in) transposed; b is bias"),
    "Conv2d": ("nn.Conv2d", "W (O, C, K, K) and b (O,) are stored the same way"),
    "MaxPool2d": ("nn.MaxPool2d", "same kernel_size, stride, padding"),
    "AvgPool2d": ("nn.AvgPool2d", "count_include_pad=True, as lenet counts the zero padding"),
    "ReLU": ("nn.ReLU", ""),
    "LeakyReLU": ("nn.LeakyReLU", "same negative_slope"),
    "Tanh": ("nn.Tanh", ""),
    "Sigmoid": ("nn.Sigmoid", ""),
    "Flatten": ("nn.Flatten", "start_dim=1"),
}


def _torch():
    try:
        import torch
    except ImportError as err:
        raise ImportError(
            "lenet.interop needs PyTorch: pip install -e '.[torch]' (or pip install torch)"
        ) from err
    return torch


def _tensor(torch, array):
    return torch.from_numpy(np.ascontiguousarray(array).copy())


def to_torch(model):
    """A torch.nn.Sequential equal to a lenet model, parameters copied (dtype kept)."""
    torch = _torch()
    nn = torch.nn
    modules = []
    for i, layer in enumerate(model.layers):
        name = type(layer).__name__
        if name == "Linear":
            m = nn.Linear(layer.in_features, layer.out_features, bias=layer.bias)
            m.weight = nn.Parameter(_tensor(torch, layer.params["W"].T))
        elif name == "Conv2d":
            m = nn.Conv2d(
                layer.in_channels,
                layer.out_channels,
                layer.kernel_size,
                stride=layer.stride,
                padding=layer.padding,
                bias=layer.bias,
            )
            m.weight = nn.Parameter(_tensor(torch, layer.params["W"]))
        elif name == "MaxPool2d":
            m = nn.MaxPool2d(layer.kernel_size, stride=layer.stride, padding=layer.padding)
        elif name == "AvgPool2d":
            m = nn.AvgPool2d(
                layer.kernel_size,
                stride=layer.stride,
                padding=layer.padding,
                count_include_pad=True,
            )
        elif name == "LeakyReLU":
            m = nn.LeakyReLU(layer.negative_slope)
        elif name in ("ReLU", "Tanh", "Sigmoid", "Flatten"):
            m = getattr(nn, name)()
        else:
            raise ValueError(f"layer {i} ({name}) has no PyTorch counterpart in lenet.interop")
        if "b" in layer.params:
            m.bias = nn.Parameter(_tensor(torch, layer.params["b"]))
        modules.append(m)
    return nn.Sequential(*modules)


def _unsupported(i, module, setting):
    return ValueError(
        f"module {i} ({type(module).__name__}) uses {setting}, which lenet does not support"
    )


def _square(i, module, name):
    value = getattr(module, name)
    if isinstance(value, tuple):
        if len(set(value)) != 1:
            raise _unsupported(i, module, f"a non-square {name} {value}")
        value = value[0]
    return int(value)


def from_torch(module, dtype=None):
    """A lenet Sequential equal to a torch.nn.Sequential of supported modules.

    dtype: of the lenet parameters; default that of the torch parameters.
    """
    torch = _torch()
    nn = torch.nn
    if not isinstance(module, nn.Sequential):
        raise TypeError(f"from_torch takes a torch.nn.Sequential, got {type(module).__name__}")
    layers = []
    for i, m in enumerate(module):
        params = {}
        if isinstance(m, nn.Linear):
            layer = L.Linear(m.in_features, m.out_features, bias=m.bias is not None)
            params["W"] = m.weight.detach().numpy().T
        elif isinstance(m, nn.Conv2d):
            if m.groups != 1 or _square(i, m, "dilation") != 1:
                raise _unsupported(i, m, "groups or dilation")
            if m.padding_mode != "zeros" or isinstance(m.padding, str):
                raise _unsupported(i, m, f"padding {m.padding!r} ({m.padding_mode})")
            layer = L.Conv2d(
                m.in_channels,
                m.out_channels,
                _square(i, m, "kernel_size"),
                stride=_square(i, m, "stride"),
                padding=_square(i, m, "padding"),
                bias=m.bias is not None,
            )
            params["W"] = m.weight.detach().numpy()
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            if m.ceil_mode:
                raise _unsupported(i, m, "ceil_mode=True")
            if isinstance(m, nn.MaxPool2d) and _square(i, m, "dilation") != 1:
                raise _unsupported(i, m, "dilation")
            if isinstance(m, nn.AvgPool2d) and (not m.count_include_pad or m.divisor_override):
                raise _unsupported(i, m, "count_include_pad=False or a divisor_override")
            cls = L.MaxPool2d if isinstance(m, nn.MaxPool2d) else L.AvgPool2d
            layer = cls(
                _square(i, m, "kernel_size"),
                stride=_square(i, m, "stride"),
                padding=_square(i, m, "padding"),
            )
        elif isinstance(m, nn.LeakyReLU):
            layer = L.LeakyReLU(m.negative_slope)
        elif isinstance(m, nn.Flatten):
            if m.start_dim != 1 or m.end_dim != -1:
                raise _unsupported(i, m, f"start_dim={m.start_dim}, end_dim={m.end_dim}")
            layer = L.Flatten()
        elif type(m) in (nn.ReLU, nn.Tanh, nn.Sigmoid):
            layer = getattr(L, type(m).__name__)()
        else:
            raise ValueError(f"module {i} ({type(m).__name__}) has no lenet counterpart")
        if getattr(m, "bias", None) is not None and "b" in layer.params:
            params["b"] = m.bias.detach().numpy()
        for key, value in params.items():
            layer.params[key] = np.array(value, dtype=dtype or value.dtype)
        layers.append(layer)
    return Sequential(*layers)
