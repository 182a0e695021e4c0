"""From numpy to PyTorch and back: the same network, the same weights.

    module = to_torch(model)      # a torch.nn.Sequential with copied weights
    model = from_torch(module)    # a lenet Sequential with copied weights

Only layers that exist on both sides convert (see LAYER_MAP and layer_map()). The one
difference in storage: lenet's Linear keeps W as (in, out) and computes x @ W + b; torch's keeps
weight as (out, in) and computes x @ weight.T + bias, so W is transposed on the way. Conv2d
weights are (out, in, K, K) in both. The dtype is kept (float32 stays float32, float64 stays
float64), and the copies share no memory with the original.

torch is imported only inside the two functions: ``import lenet.interop`` works without it.
"""

import numpy as np

import lenet.nn
from lenet.nn.models import Sequential

__all__ = ["LAYER_MAP", "from_torch", "layer_map", "to_torch"]

INSTALL_HINT = 'pip install -e ".[torch]"'

# lenet layer -> (torch.nn counterpart, what to know when converting)
LAYER_MAP = {
    "Linear": ("nn.Linear", "W (in, out) is torch's weight (out, in) transposed; b is bias"),
    "Conv2d": ("nn.Conv2d", "W (O, C, K, K) and b (O,) stored alike; square K, zero padding"),
    "MaxPool2d": ("nn.MaxPool2d", "same kernel_size, stride, padding (both: padding <= K // 2)"),
    "AvgPool2d": ("nn.AvgPool2d", "count_include_pad=True: lenet counts the zero padding too"),
    "ReLU": ("nn.ReLU", ""),
    "LeakyReLU": ("nn.LeakyReLU", "same negative_slope"),
    "Tanh": ("nn.Tanh", ""),
    "Sigmoid": ("nn.Sigmoid", ""),
    "Flatten": ("nn.Flatten", "start_dim=1: (N, C, H, W) -> (N, C*H*W), same order"),
}


def layer_map():
    """LAYER_MAP as rows (lenet layer, torch.nn counterpart, note), e.g. for a table."""
    return [(ours, theirs, note) for ours, (theirs, note) in LAYER_MAP.items()]


def _torch():
    try:
        import torch
    except ImportError as err:
        raise ImportError(
            f"lenet.interop needs PyTorch, which is not installed. Install it with: {INSTALL_HINT}"
            " (from the repository root), or: pip install torch"
        ) from err
    return torch


def _to_tensor(torch, array):
    """A torch tensor with a copy of array's values and dtype (contiguous, own memory)."""
    return torch.from_numpy(np.array(array, order="C", copy=True))


def _to_torch_layer(nn, i, layer):
    """The torch module equal to lenet layer number i, parameters not yet set."""
    name = type(layer).__name__
    # Compare names, not isinstance: a subclass (e.g. classic.MaskedConv2d) computes something else.
    # Built on the "meta" device: no initialisation (and no draw from torch's random state),
    # as to_torch replaces every parameter.
    empty = {"device": "meta"}
    if name == "Linear":
        return nn.Linear(layer.in_features, layer.out_features, bias=layer.bias, **empty)
    if name == "Conv2d":
        return nn.Conv2d(
            layer.in_channels,
            layer.out_channels,
            layer.kernel_size,
            stride=layer.stride,
            padding=layer.padding,
            bias=layer.bias,
            **empty,
        )
    if name in ("MaxPool2d", "AvgPool2d"):
        if name == "MaxPool2d":
            return nn.MaxPool2d(layer.kernel_size, stride=layer.stride, padding=layer.padding)
        return nn.AvgPool2d(
            layer.kernel_size, stride=layer.stride, padding=layer.padding, count_include_pad=True
        )
    if name == "LeakyReLU":
        return nn.LeakyReLU(layer.negative_slope)
    if name in ("ReLU", "Tanh", "Sigmoid"):
        return getattr(nn, name)()
    if name == "Flatten":
        return nn.Flatten(start_dim=1)
    raise ValueError(
        f"layer {i} ({name}) has no PyTorch counterpart in lenet.interop; "
        f"supported: {', '.join(LAYER_MAP)}"
    )


def to_torch(model):
    """A torch.nn.Sequential computing the same as a lenet model, parameters copied.

    model: a lenet Sequential (LeNet5 is one) of the layers in LAYER_MAP. Linear's W (in, out)
    becomes weight (out, in); every other parameter keeps its shape. float32 parameters give
    float32 tensors, float64 give float64. The module is on the CPU, in training mode.
    """
    torch = _torch()
    nn = torch.nn
    if not hasattr(model, "layers"):
        raise TypeError(
            f"to_torch takes a lenet Sequential (or LeNet5), got {type(model).__name__}"
        )
    modules = []
    for i, layer in enumerate(model.layers):
        name = type(layer).__name__
        module = _to_torch_layer(nn, i, layer)
        if "W" in layer.params:
            W = layer.params["W"]
            module.weight = nn.Parameter(_to_tensor(torch, W.T if name == "Linear" else W))
        if "b" in layer.params:
            module.bias = nn.Parameter(_to_tensor(torch, layer.params["b"]))
        modules.append(module)
    return nn.Sequential(*modules)


def _unsupported(i, module, setting):
    return ValueError(
        f"module {i} ({type(module).__name__}) has {setting}, which lenet does not support"
    )


def _one_int(i, module, name):
    """module.<name> as one int: torch keeps an int or an (h, w) pair; lenet needs h == w."""
    value = getattr(module, name)
    if isinstance(value, (tuple, list)):
        if len(set(value)) != 1:
            raise _unsupported(i, module, f"a non-square {name}={tuple(value)}")
        value = value[0]
    return int(value)


def _conv_padding(i, m):
    """nn.Conv2d's padding as lenet's single int."""
    if m.padding_mode != "zeros":
        raise _unsupported(i, m, f"padding_mode={m.padding_mode!r} (lenet pads with zeros)")
    if m.padding == "valid":
        return 0
    if m.padding == "same":  # torch pads (K - 1) // 2 before and K // 2 after: equal for odd K
        k = _one_int(i, m, "kernel_size")
        if k % 2 == 0:
            raise _unsupported(
                i, m, f"padding='same' with an even kernel_size {k} (padded unevenly)"
            )
        return (k - 1) // 2
    return _one_int(i, m, "padding")


def _from_torch_layer(nn, i, m, dtype):
    """The lenet layer equal to torch module number i, with parameters of that dtype."""
    if isinstance(m, nn.Linear):
        return lenet.nn.Linear(m.in_features, m.out_features, bias=m.bias is not None, dtype=dtype)
    if isinstance(m, nn.Conv2d):
        if m.groups != 1:
            raise _unsupported(i, m, f"groups={m.groups}")
        if _one_int(i, m, "dilation") != 1:
            raise _unsupported(i, m, f"dilation={m.dilation}")
        return lenet.nn.Conv2d(
            m.in_channels,
            m.out_channels,
            _one_int(i, m, "kernel_size"),
            stride=_one_int(i, m, "stride"),
            padding=_conv_padding(i, m),
            bias=m.bias is not None,
            dtype=dtype,
        )
    if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
        if m.ceil_mode:
            raise _unsupported(i, m, "ceil_mode=True")
        if isinstance(m, nn.MaxPool2d):
            if _one_int(i, m, "dilation") != 1:
                raise _unsupported(i, m, f"dilation={m.dilation}")
            if m.return_indices:
                raise _unsupported(i, m, "return_indices=True")
            cls = lenet.nn.MaxPool2d
        else:
            if not m.count_include_pad:
                raise _unsupported(i, m, "count_include_pad=False (lenet counts the padding)")
            if m.divisor_override:
                raise _unsupported(i, m, f"divisor_override={m.divisor_override}")
            cls = lenet.nn.AvgPool2d
        return cls(
            _one_int(i, m, "kernel_size"),
            stride=_one_int(i, m, "stride"),
            padding=_one_int(i, m, "padding"),
        )
    if isinstance(m, nn.LeakyReLU):
        return lenet.nn.LeakyReLU(m.negative_slope)
    if isinstance(m, nn.Flatten):
        if m.start_dim != 1 or m.end_dim != -1:
            raise _unsupported(i, m, f"start_dim={m.start_dim}, end_dim={m.end_dim}")
        return lenet.nn.Flatten()
    if type(m) in (nn.ReLU, nn.Tanh, nn.Sigmoid):
        return getattr(lenet.nn, type(m).__name__)()
    raise ValueError(
        f"module {i} ({type(m).__name__}) has no lenet counterpart; supported: "
        + ", ".join(theirs for theirs, _ in LAYER_MAP.values())
    )


def from_torch(module, dtype=None):
    """A lenet Sequential computing the same as a torch.nn.Sequential, parameters copied.

    module: a torch.nn.Sequential of the modules in LAYER_MAP (Conv2d with square kernels, zero
    padding, no dilation or groups; AvgPool2d with count_include_pad=True; no ceil_mode).
    dtype: of the lenet parameters; None keeps that of the torch parameters.
    Raises ValueError naming the module (index and type) that has no lenet counterpart.
    """
    torch = _torch()
    nn = torch.nn
    if not isinstance(module, nn.Sequential):
        raise TypeError(f"from_torch takes a torch.nn.Sequential, got {type(module).__name__}")
    converted = []
    for i, m in enumerate(module):
        tensors = {}
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            tensors["W"] = m.weight.detach().cpu().numpy()
            if isinstance(m, nn.Linear):
                tensors["W"] = tensors["W"].T
            if m.bias is not None:
                tensors["b"] = m.bias.detach().cpu().numpy()
        if dtype is not None:
            param_dtype = np.dtype(dtype)
        else:
            param_dtype = tensors["W"].dtype if tensors else np.dtype(np.float32)
        layer = _from_torch_layer(nn, i, m, param_dtype)
        for key, value in tensors.items():
            layer.params[key] = np.array(value, dtype=param_dtype, order="C", copy=True)
        converted.append(layer)
    return Sequential(*converted)
