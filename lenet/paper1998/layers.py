"""LeNet-5 as LeCun, Bottou, Bengio and Haffner published it in 1998, with the same layer contract.

    input 28x28 -> pad to 32x32 (optionally binarise) -> C1 conv 6@5x5 -> squash
    -> S2 trainable subsampling -> squash -> C3 conv 16@5x5, partially connected -> squash
    -> S4 trainable subsampling -> squash -> C5 conv 120@5x5 -> squash -> F6 84 -> squash
    -> RBF output: 10 squared distances to fixed digit bitmaps

Padding, binarisation and the paper's input levels are layers (Pad, Binarize, InputRange),
so a checkpoint remembers them and the model takes the same raw [0, 1] images as every lenet
model. "Squash" is the paper's scaled tanh, f(a) = 1.7159 tanh(2a/3), a layer of its own
(ScaledTanh) after each weighted layer but the output.

One builder, LeNet1998, makes both versions of the net:

    LeNet1998()            the paper's input levels and initialisation; trained with its MAP
                           loss (lenet.paper1998.loss) and SDLM (lenet.paper1998.sdlm)
    LeNet1998(init="glorot", input_range=None, binarize=True)
                           the reference report's: trained like any lenet model, with
                           softmax cross-entropy over the outputs

The output layer returns the *negative* distances -y_i, so that, as for every lenet model, the
prediction is the argmax and SoftmaxCrossEntropy applies:

    -log(e^{-y_t} / sum_i e^{-y_i}) = y_t + log sum_i e^{-y_i}

The paper's MAP loss, y_t + log(e^{-j} + sum_i e^{-y_i}), differs only by the constant e^{-j}
inside the log, which stops it from pushing already-large wrong distances further up; as
j -> infinity the two agree.
"""

import numpy as np

from lenet.nn import im2col
from lenet.nn.activations import Elementwise
from lenet.nn.conv import Conv2d
from lenet.nn.layers import Layer, as_float, check_images
from lenet.nn.linear import Flatten, Linear
from lenet.nn.models import Sequential
from lenet.utils.checks import non_negative_int, positive_int
from lenet.utils.rng import as_generator

__all__ = [
    "C3_TABLE",
    "DIGIT_BITMAPS",
    "Pad",
    "Binarize",
    "Subsampling",
    "MaskedConv2d",
    "ScaledTanh",
    "RBFOutput",
    "InputRange",
    "fan_in",
    "INIT_RULES",
    "initialize_1998",
    "LeNet1998",
]

# Table I of the paper: C3_TABLE[j, i] is True when C3 feature map j reads S2 map i.
# Maps 0-5 read 3 contiguous S2 maps, 6-11 read 4 contiguous, 12-14 read 4 discontinuous,
# and 15 reads all 6.
_C3_INPUTS = [
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
]  # fmt: skip
C3_TABLE = np.zeros((16, 6), dtype=bool)
for _j, _inputs in enumerate(_C3_INPUTS):
    C3_TABLE[_j, list(_inputs)] = True
C3_TABLE.flags.writeable = False  # a module constant: copy it to experiment with other tables

# The RBF prototypes: one 7 (wide) x 12 (tall) bitmap per digit, '#' = +1, '.' = -1.
_BITMAPS = """
..###.. ...#... ..###.. .####.. ....#.. ####### ..###.. ####### ..###.. ..###..
.#...#. ..##... .#...#. #....#. ...##.. #...... .#..... ......# .#...#. .#...#.
#.....# .#.#... #.....# .....#. ..#.#.. #...... #...... .....#. #.....# #.....#
#.....# ...#... ......# ....#.. ..#.#.. #.###.. #...... .....#. #.....# #.....#
#.....# ...#... .....#. ..##... .#..#.. ##...#. #.###.. ....#.. .#...#. #.....#
#.....# ...#... ....#.. ....#.. .#..#.. ......# ##...#. ....#.. ..###.. .#...##
#.....# ...#... ...#... .....#. #...#.. ......# #.....# ...#... .#...#. ..###.#
#.....# ...#... ..#.... ......# ####### ......# #.....# ...#... #.....# ......#
#.....# ...#... .#..... ......# ....#.. #.....# #.....# ..#.... #.....# .....#.
.#...#. ...#... #...... #....#. ....#.. .#...#. .#...#. ..#.... #.....# ....#..
..###.. .#####. ####### .####.. ....#.. ..###.. ..###.. ..#.... .#...#. ..##...
....... ....... ....... ....... ....... ....... ....... ....... ..###.. .......
"""
_ROWS = [row.split() for row in _BITMAPS.strip().splitlines()]
DIGIT_BITMAPS = (
    np.array([[[c == "#" for c in row[d]] for row in _ROWS] for d in range(10)]) * 2.0 - 1
)  # (10, 12, 7)
DIGIT_BITMAPS.flags.writeable = False


class Pad(Layer):
    """Zero padding of the image border: (N, C, H, W) -> (N, C, H + 2P, W + 2P)."""

    def __init__(self, padding=2):
        super().__init__()
        self.padding = non_negative_int("padding", padding)

    def constructor_args(self):
        return {"padding": self.padding}

    def forward(self, x):
        x = check_images(self, x)
        self._cache = x.shape
        return im2col.pad(x, self.padding)

    def backward(self, dout):
        n, c, h, w = self._cached()
        p = self.padding
        dout = self._check_dout(dout, (n, c, h + 2 * p, w + 2 * p))
        return dout[:, :, p : p + h, p : p + w]

    def backward_curvature(self, d2out):
        return self.backward(d2out)


class Binarize(Layer):
    """1 where x >= threshold, else 0 (the reports binarised MNIST at 40 of 255).

    A step function: its derivative is 0 wherever it exists, so backward returns zeros. It is
    meant as a first layer, where no gradient of the input is needed.
    """

    def __init__(self, threshold=40 / 255):
        super().__init__()
        threshold = float(threshold)
        if not 0 < threshold <= 1:
            raise ValueError(
                f"threshold must lie in (0, 1] (images are in [0, 1]), got {threshold}"
            )
        self.threshold = threshold

    def constructor_args(self):
        return {"threshold": self.threshold}

    def forward(self, x):
        x = as_float(self, x)
        self._cache = x.shape
        return (x >= self.threshold).astype(x.dtype)

    def backward(self, dout):
        dout = self._check_dout(dout, self._cached())
        return np.zeros_like(dout)


class Subsampling(Layer):
    """S2/S4: each 2x2 window summed, times a trainable coefficient per channel, plus a bias.

    x: (N, C, H, W) -> (N, C, H//2, W//2); coef, bias: (C,). The squashing follows as its own
    layer. Starts as average pooling (coef 1/4, bias 0): that start is deterministic, so rng is
    accepted (as by every layer with parameters) but not used.
    """

    def __init__(self, channels, dtype=np.float32, rng=None):
        super().__init__()
        self.channels = positive_int("channels", channels)
        self.params["coef"] = np.full(self.channels, 0.25, dtype=dtype)
        self.params["bias"] = np.zeros(self.channels, dtype=dtype)

    def constructor_args(self):
        return {"channels": self.channels}

    @classmethod
    def parameter_shapes(cls, channels, **_):
        """coef, bias: (C,)."""
        c = positive_int("channels", channels)
        return {"coef": (c,), "bias": (c,)}

    def forward(self, x):
        x = check_images(self, x, self.channels).astype(self.params["coef"].dtype, copy=False)
        h_out, w_out = x.shape[2] // 2, x.shape[3] // 2
        if h_out == 0 or w_out == 0:
            raise ValueError(f"Subsampling needs images of at least 2x2, got {x.shape}")
        total = im2col.window_sum(x[:, :, : 2 * h_out, : 2 * w_out], 2, 2)
        self._cache = (total, x.shape)
        return total * self.params["coef"][:, None, None] + self.params["bias"][:, None, None]

    def backward(self, dout):
        total, shape = self._cached()
        dout = self._check_dout(dout, total.shape)
        self.grads["coef"] = (dout * total).sum(axis=(0, 2, 3))
        self.grads["bias"] = dout.sum(axis=(0, 2, 3))
        dtotal = dout * self.params["coef"][:, None, None]
        dx = im2col.batch_last(shape, dtotal.dtype)
        cropped = (*shape[:2], 2 * total.shape[2], 2 * total.shape[3])
        dx[:, :, : cropped[2], : cropped[3]] = im2col.window_sum_adjoint(dtotal, cropped, 2, 2)
        return dx

    def backward_curvature(self, d2out):
        """Curvature of coef: sum of total^2 d2out; of each input: coef^2 d2out."""
        total, shape = self._cached()
        d2out = self._check_dout(d2out, total.shape)
        self.curvature["coef"] = (d2out * total * total).sum(axis=(0, 2, 3))
        self.curvature["bias"] = d2out.sum(axis=(0, 2, 3))
        d2total = d2out * (self.params["coef"] ** 2)[:, None, None]
        d2x = im2col.batch_last(shape, d2total.dtype)
        cropped = (*shape[:2], 2 * total.shape[2], 2 * total.shape[3])
        d2x[:, :, : cropped[2], : cropped[3]] = im2col.window_sum_adjoint(d2total, cropped, 2, 2)
        return d2x


class MaskedConv2d(Conv2d):
    """A convolution in which output map o reads input map c only where table[o, c] is True.

    Forward and backward apply W * mask, so a missing connection has no effect; its weight is
    zero from the start and its gradient is zeroed, so no optimizer step (momentum, weight
    decay, Adam) ever makes it non-zero.
    """

    def __init__(self, in_channels, out_channels, kernel_size, table, **kwargs):
        super().__init__(in_channels, out_channels, kernel_size, **kwargs)
        self.table = np.array(table, dtype=bool)
        if self.table.shape != (out_channels, in_channels):
            raise ValueError(
                f"table must have shape (out_channels, in_channels) = "
                f"{(out_channels, in_channels)}, got {self.table.shape}"
            )
        self.mask = self.table[:, :, None, None].astype(self.params["W"].dtype)
        self.params["W"] *= self.mask

    def constructor_args(self):
        return super().constructor_args() | {"table": self.table.tolist()}

    def parameter_count(self):
        """Only the weights of existing connections count (1,516 for C3, as in the paper)."""
        return int(self.table.sum()) * self.kernel_size**2 + (self.out_channels if self.bias else 0)

    def effective_weight(self):
        return self.params["W"] * self.mask

    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["W"] = self.grads["W"] * self.mask
        return dx

    def backward_curvature(self, d2out):
        d2x = super().backward_curvature(d2out)
        self.curvature["W"] = self.curvature["W"] * self.mask
        return d2x


class ScaledTanh(Elementwise):
    """The paper's squashing function f(a) = A tanh(S a), A = 1.7159, S = 2/3 (f(1) ~ 1).

    Derivative A S (1 - tanh(S a)^2).
    """

    A, S = 1.7159, 2 / 3

    def _apply(self, x):
        t = np.tanh(self.S * x)
        return (self.A * t).astype(t.dtype, copy=False), (self.A * self.S) * (1 - t * t)


class RBFOutput(Layer):
    """Euclidean RBF units: y_i = sum_j (x_j - w_ij)^2 for fixed prototypes w_i; returns -y.

    x: (N, 84) -> (N, 10). The prototypes are the 7 x 12 digit bitmaps (values -1 / +1),
    flattened; they are not trained, so params is empty.
    """

    prototypes = DIGIT_BITMAPS.reshape(10, -1)  # (10, 84)
    curvature_uses_gradient = True  # backward_curvature(d2out, dout): see there

    def forward(self, x):
        x = as_float(self, x)
        if x.ndim != 2 or x.shape[1] != self.prototypes.shape[1]:
            raise ValueError(f"RBFOutput expects input of shape (N, 84), got {x.shape}")
        w = self.prototypes.astype(x.dtype)
        self._cache = (x, w)
        # |x - w|^2 = |x|^2 - 2 x.w + |w|^2: one matrix product for the whole batch
        y = (x * x).sum(axis=1, keepdims=True) - 2 * x @ w.T + (w * w).sum(axis=1)
        return -y

    def backward(self, dout):
        x, w = self._cached()
        dout = self._check_dout(dout, (x.shape[0], 10))
        # d(-y_i)/dx = -2 (x - w_i), summed over the units with their upstream gradients
        return -2 * (dout.sum(axis=1, keepdims=True) * x - dout @ w)

    def backward_curvature(self, d2out, dout=None):
        """d2E/dx2 ~ sum_i 4 (x - w_i)^2 d2out_i + 2 sum_i max(-dout_i, 0).

        The first sum is the Gauss-Newton term, as in every layer. The second is the RBF
        units' own curvature: d2(-y_i)/dx_j2 = -2 exactly, weighted by dE/d(-y_i) = dout_i
        (the gradient backward receives). Only units whose penalty the loss wants smaller
        (dout_i < 0: the correct class) give positive curvature, and only they are kept. For
        the MAP loss this term is 2 (1 - p_D): the squared-error pull towards the correct
        prototype, which the Gauss-Newton term alone would miss. Without dout, only the
        Gauss-Newton term.
        """
        x, w = self._cached()
        d2out = self._check_dout(d2out, (x.shape[0], 10))
        # sum_i (x_j - w_ij)^2 c_i = x_j^2 sum_i c_i - 2 x_j (c @ w)_j + (c @ w^2)_j
        c_sum = d2out.sum(axis=1, keepdims=True)
        d2x = 4 * (x * x * c_sum - 2 * x * (d2out @ w) + d2out @ (w * w))
        if dout is not None:
            dout = self._check_dout(dout, (x.shape[0], 10))
            d2x = d2x + 2 * np.maximum(-dout, 0).sum(axis=1, keepdims=True)
        return d2x


def _c1_to_rbf(dtype, kw):
    """The layers from C1 to the RBF output, on a 32 x 32 input: (N, 1, 32, 32) -> (N, 10).

    kw: the weighted layers' keyword arguments (dtype, rng, and init where given).
    """
    return [
        Conv2d(1, 6, 5, input_grad=False, **kw),  # C1: (N, 6, 28, 28)
        ScaledTanh(),
        Subsampling(6, dtype=dtype),  # S2: (N, 6, 14, 14)
        ScaledTanh(),
        MaskedConv2d(6, 16, 5, C3_TABLE, **kw),  # C3: (N, 16, 10, 10)
        ScaledTanh(),
        Subsampling(16, dtype=dtype),  # S4: (N, 16, 5, 5)
        ScaledTanh(),
        Conv2d(16, 120, 5, **kw),  # C5: (N, 120, 1, 1)
        ScaledTanh(),
        Flatten(),
        Linear(120, 84, **kw),  # F6
        ScaledTanh(),
        RBFOutput(),  # (N, 10)
    ]


class InputRange(Layer):
    """Map [0, 1] images to the paper's input levels: 0 -> background, 1 -> foreground.

    y = background + (foreground - background) x. The paper's values, -0.1 (white) and 1.175
    (black), make the mean input roughly 0 and its variance roughly 1 (Section II.B). Placed
    after Pad, so the padded border is background too.
    """

    def __init__(self, background=-0.1, foreground=1.175):
        super().__init__()
        self.background, self.foreground = float(background), float(foreground)
        if not self.foreground > self.background:
            raise ValueError(
                f"foreground must be larger than background, got {foreground} <= {background}"
            )

    def constructor_args(self):
        return {"background": self.background, "foreground": self.foreground}

    @property
    def scale(self):
        return self.foreground - self.background

    def forward(self, x):
        x = check_images(self, x)
        self._cache = x.shape
        return (self.background + self.scale * x).astype(x.dtype, copy=False)

    def backward(self, dout):
        return self._check_dout(dout, self._cached()) * self.scale

    def backward_curvature(self, d2out):
        return self._check_dout(d2out, self._cached()) * self.scale**2


def fan_in(layer):
    """Number of inputs of each unit of a weighted layer: (out,) for a convolution (C3's
    units read 3, 4 or 6 maps), a number for Linear and Subsampling (a 2x2 window: 4)."""
    if isinstance(layer, MaskedConv2d):
        return layer.table.sum(axis=1) * layer.kernel_size**2
    if isinstance(layer, Conv2d):
        return np.full(layer.out_channels, layer.in_channels * layer.kernel_size**2)
    if isinstance(layer, Linear):
        return layer.in_features
    if isinstance(layer, Subsampling):
        return 4
    raise TypeError(f"no fan-in rule for {type(layer).__name__}")


INIT_RULES = ("sqrt", "printed")


def initialize_1998(model, rng=None, rule="sqrt"):
    """The paper's initialisation, in place: every weight and bias of a unit uniform in
    [-2.4/sqrt(F), 2.4/sqrt(F)] (rule "sqrt") or [-2.4/F, 2.4/F] (rule "printed"), F the
    unit's fan-in. Biases count as weights; C3's missing connections stay zero.

    Appendix A prints 2.4/F but gives the aim: weighted sums of about the same spread in every
    layer, inside the squashing function's working range. Only 2.4/sqrt(F) does that (the
    weighted sums then have standard deviation ~1.4 for inputs of variance 1, whatever F);
    with 2.4/F they shrink as 1.4/sqrt(F) (C5: 0.07), the curvature of the lower layers starts
    near zero, SDLM's steps there are eta/mu, and training with the paper's eta and mu
    diverges in the first pass (see notebook 11). Returns the model.
    """
    if rule not in INIT_RULES:
        raise ValueError(f"rule must be one of {INIT_RULES}, got {rule!r}")
    rng = as_generator(rng)
    for layer in model.layers:
        if not layer.params:
            continue
        f = np.asarray(fan_in(layer), dtype=np.float64)
        limit = 2.4 / (np.sqrt(f) if rule == "sqrt" else f)
        for p in layer.params.values():
            # per output map for a convolution's W (O, C, K, K) and b (O,)
            lim = limit.reshape(-1, *([1] * (p.ndim - 1))) if limit.ndim else limit
            p[...] = rng.uniform(-1.0, 1.0, size=p.shape) * lim
        if isinstance(layer, MaskedConv2d):
            layer.params["W"] *= layer.mask
    return model


def LeNet1998(init="sqrt", input_range=(-0.1, 1.175), binarize=False, dtype=np.float32, rng=None):
    """The 1998 LeNet-5 for 28 x 28 digits: (N, 1, 28, 28) -> -distances (N, 10).

    The digit is centred in a 32 x 32 field (Pad) before C1. The defaults are the paper's:
    input_range maps [0, 1] to its levels, background -0.1 and ink 1.175 (None keeps [0, 1]);
    init="sqrt" draws every weight and bias uniform in +-2.4 / sqrt(fan-in) ("printed": +-2.4 /
    fan-in, see initialize_1998). Train it with MAPLoss and SDLM (lenet.paper1998.recipe).

    LeNet1998(init="glorot", input_range=None, binarize=True) is the reference report's
    version, trained with SoftmaxCrossEntropy like any lenet model: Glorot uniform weights on
    grey levels in [0, 1], binarised at 40/255 first. binarize: False or None (grey levels
    kept), True (the reports' threshold, 40/255), or a threshold in (0, 1].
    """
    if init not in (*INIT_RULES, "glorot"):
        raise ValueError(f"init must be one of {(*INIT_RULES, 'glorot')}, got {init!r}")
    rng = as_generator(rng)
    kw = {"dtype": dtype, "rng": rng} | ({"init": "glorot"} if init == "glorot" else {})
    front = []
    if binarize is True:
        front.append(Binarize(40 / 255))
    elif binarize is not None and binarize is not False:
        front.append(Binarize(binarize))
    front.append(Pad(2))
    if input_range is not None:
        front.append(InputRange(*input_range))
    model = Sequential(*front, *_c1_to_rbf(dtype, kw))
    return model if init == "glorot" else initialize_1998(model, rng, init)
