"""Exercises: write a piece of the network yourself, and get told at once whether it is right.

In a notebook, after writing a function such as ``conv_forward``:

    from lenet.teaching.exercises import check, or_reference
    check("5.2", conv_forward)                  # ✓, or which case differs, where, and why
    conv = or_reference("5.2", conv_forward)    # yours once it passes, else lenet's

Each checker runs your function on a few small cases chosen to expose the usual mistakes (odd
shapes, stride 2, padding, ties in a pooling window, large logits), compares every output with
lenet's own tested implementation (relative tolerance 1e-5, so a 1% error fails) and says in
words which case differs, the expected and actual shapes, the first differing index with both
values, and, when your answer equals a typical wrong one that it computes too, what that
mistake is.

``check(exercise, fn)`` prints one ✓ line when every case agrees. When fn still raises
NotImplementedError (the placeholder of the student edition) it prints "Exercise N.M not
attempted yet". Otherwise it raises ExerciseFailed with a short message and no traceback: a
committed notebook whose solution is wrong fails loudly, while the student edition runs top
to bottom. It returns None, so a check cell shows only its message. ``run(exercise, fn)``
returns the verdict as a Result (``.passed``, ``.status``, ``.message``, ``.hint``) without
printing or raising: ``assert run("5.2", conv_forward).passed`` also fails when not attempted
(for autograding). ``EXERCISES`` lists every exercise.
"""

import textwrap
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lenet.nn.gradcheck import numerical_gradient
from lenet.nn.layers import AvgPool2d, Conv2d, Linear, MaxPool2d, ReLU, Sigmoid
from lenet.nn.losses import MSELoss, SoftmaxCrossEntropy, log_softmax, softmax
from lenet.paper1998 import C3_TABLE, DIGIT_BITMAPS, MaskedConv2d, RBFOutput

__all__ = ["EXERCISES", "Exercise", "ExerciseFailed", "Result", "check", "or_reference", "run"]

RTOL = 1e-5  # relative tolerance per element; the absolute floor is 1e-6 of the largest value


class ExerciseFailed(Exception):
    """A wrong answer. IPython shows only the message (no traceback into the checker)."""

    def _render_traceback_(self):
        return [f"ExerciseFailed: {self}"]


@dataclass(frozen=True)
class Case:
    """One call: a label saying what it probes, and the positional arguments (name -> value)."""

    label: str
    args: dict


@dataclass(frozen=True)
class Mistake:
    """A typical wrong solution (same signature as the reference) and what to say about it."""

    wrong: Callable
    hint: str


@dataclass(frozen=True)
class Exercise:
    number: str  # "5.2"
    function: str  # the name the notebook gives the learner's function
    task: str  # one line: what to write (the student edition's placeholder says it)
    reference: Callable  # lenet's answer, same signature as the learner's function
    cases: tuple  # of Case
    mistakes: tuple = ()  # of Mistake
    outputs: tuple = ("the result",)  # names of the returned arrays, in order


@dataclass(frozen=True)
class Result:
    """The verdict: status is "passed", "failed" or "not attempted"; hint may be empty."""

    exercise: str
    status: str
    message: str
    hint: str = ""

    @property
    def passed(self):
        return self.status == "passed"


# ---------------------------------------------------------------------------------------------
# Running and comparing


def _describe(case):
    parts = []
    for name, value in case.args.items():
        if isinstance(value, np.ndarray) and value.ndim > 0:
            parts.append(f"{name} {value.shape}")
        elif callable(value):
            parts.append(f"{name}={getattr(value, '__doc__', None) or 'a function'}")
        else:
            parts.append(f"{name}={value!r}")
    return f"{case.label} ({', '.join(parts)})"


def _fresh_args(case):
    return [v.copy() if isinstance(v, np.ndarray) else v for v in case.args.values()]


def _as_outputs(value, count):
    """The outputs as a tuple of float arrays, or an error text."""
    if value is None:
        return "returned None: is the `return` statement missing?"
    if count == 1:
        value = (value,)
    elif not isinstance(value, (tuple, list)) or len(value) != count:
        got = f"{len(value)} values" if isinstance(value, (tuple, list)) else "one value"
        return f"should return {count} values, got {got}"
    try:
        return tuple(np.asarray(v, dtype=np.float64) for v in value)
    except (TypeError, ValueError) as error:
        return f"returned something that is not an array of numbers ({error})"


def _close(actual, expected):
    """Elementwise agreement: |a - e| <= RTOL |e| + 1e-6 max|e| (NaN matches NaN)."""
    finite = np.abs(expected[np.isfinite(expected)])
    floor = 1e-6 * max(float(finite.max(initial=0.0)), 1e-6)
    with np.errstate(invalid="ignore"):
        return np.isclose(actual, expected, rtol=RTOL, atol=floor, equal_nan=True)


def _same(actual, expected):
    return all(
        a.shape == e.shape and _close(a, e).all() for a, e in zip(actual, expected, strict=True)
    )


def _fmt(v):
    return f"{v:.6g}"


def _learner_traceback(error):
    """The learner's own frames (the checker's are left out), as indented lines."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__]
    lines = "".join(traceback.format_list(frames[-4:])).rstrip().splitlines()
    return "\n".join("  " + line for line in lines)


def _generic_hint(actual, expected):
    """A hint from the numbers alone: transposed, wrong sign, off by a factor, nan/inf."""
    if actual.ndim == 2 and actual.shape == expected.shape[::-1]:
        if _close(actual.T, expected).all():
            return "your result is the transpose of the expected one: swap the order of the product"
        if actual.shape != expected.shape:
            return "the two dimensions are swapped: check which axis is which in the shapes above"
    if actual.shape != expected.shape:
        return ""
    if not np.isfinite(actual).all() and np.isfinite(expected).all():
        return (
            "your result contains inf or nan: an overflow? exp() of a large number is inf; "
            "subtract the maximum first"
        )
    if np.any(expected) and _close(-actual, expected).all():
        return "wrong sign: your result is minus the expected one"
    denom = float(np.sum(expected * expected))
    if denom > 0 and np.isfinite(actual).all():
        c = float(np.sum(actual * expected)) / denom
        if abs(c - 1) > 1e-3 and c != 0 and _close(actual, c * expected).all():
            return (
                f"your result is {c:.4g} × the expected one: a factor is missing or extra "
                "(1/N, 2, K·K, the learning rate, ...)"
            )
    return ""


def _difference(name, actual, expected):
    if actual.shape != expected.shape:
        return f"expected {name} of shape {expected.shape}, got shape {actual.shape}"
    bad = ~_close(actual, expected)
    if actual.ndim == 0:
        return f"expected {name} = {_fmt(expected)}, got {_fmt(actual)}"
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    return (
        f"{name} has the right shape {expected.shape} but {int(bad.sum())} of {bad.size} values "
        f"differ; the first at index {first}: expected {_fmt(expected[first])}, "
        f"got {_fmt(actual[first])}"
    )


def _hint_lines(hint):
    if not hint:
        return ""
    return "\n" + textwrap.fill(
        hint, width=100, initial_indent="  Hint: ", subsequent_indent="        "
    )


def _changed_input(case, args):
    for (name, before), after in zip(case.args.items(), args, strict=True):
        if isinstance(before, np.ndarray) and not np.array_equal(before, after, equal_nan=True):
            return name
    return None


def _recognised(ex, case, actual):
    """The hint of the first typical mistake whose answer equals actual on this case, or ""."""
    for mistake in ex.mistakes:
        try:
            with np.errstate(all="ignore"):
                wrong = _as_outputs(mistake.wrong(*_fresh_args(case)), len(ex.outputs))
        except Exception:  # a mistake that cannot happen in this case
            continue
        if not isinstance(wrong, str) and _same(actual, wrong):
            return mistake.hint
    return ""


def _recognised_error(ex, case, error):
    """The hint of the first typical mistake that raises the same error on this case, or ""."""
    for mistake in ex.mistakes:
        try:
            with np.errstate(all="ignore"):
                mistake.wrong(*_fresh_args(case))
        except Exception as other:
            if type(other) is type(error) and str(other) == str(error):
                return mistake.hint
    return ""


def _run_case(ex, fn, name, where, case):
    """None when fn agrees with lenet on this case, else the failed Result (or not attempted)."""
    args = _fresh_args(case)
    try:
        with np.errstate(all="ignore"):
            value = fn(*args)
    except NotImplementedError:
        return Result(
            ex.number,
            "not attempted",
            f"Exercise {ex.number} not attempted yet: write {name} in the cell above (replace "
            "the `raise NotImplementedError`), run that cell, then this check again.",
        )
    except Exception as error:  # the learner's bug, reported with the learner's frames
        hint = _recognised_error(ex, case, error)
        message = (
            f"{where}\n  your {name} raised {type(error).__name__}: {error}\n"
            f"{_learner_traceback(error)}"
        )
        return Result(ex.number, "failed", message.rstrip() + _hint_lines(hint), hint)
    changed = _changed_input(case, args)
    if changed is not None:
        hint = (
            f"your function changed its input `{changed}` in place (for example "
            f"`{changed}[...] = ...` or `{changed} *= ...`): work on a copy "
            f"(`{changed}.copy()`) or build a new array; the caller still needs `{changed}`"
        )
        return Result(ex.number, "failed", where + _hint_lines(hint), hint)
    actual = _as_outputs(value, len(ex.outputs))
    if isinstance(actual, str):
        return Result(ex.number, "failed", f"{where}\n  your {name} {actual}")
    expected = _as_outputs(ex.reference(*_fresh_args(case)), len(ex.outputs))
    if _same(actual, expected):
        return None
    i = next(
        i for i, (a, e) in enumerate(zip(actual, expected, strict=True)) if not _same((a,), (e,))
    )
    hint = _recognised(ex, case, actual) or _generic_hint(actual[i], expected[i])
    message = f"{where}\n  {_difference(ex.outputs[i], actual[i], expected[i])}"
    return Result(ex.number, "failed", message + _hint_lines(hint), hint)


def run(exercise, fn):
    """Check fn for an exercise ("5.2"); returns a Result, prints nothing, never raises for fn."""
    ex = _exercise(exercise)
    if not callable(fn):
        message = (
            f"✗ Exercise {ex.number}: pass the function itself, check({ex.number!r}, "
            f"{ex.function}), without calling it; got {type(fn).__name__} {fn!r:.60}"
        )
        return Result(ex.number, "failed", message)
    name = getattr(fn, "__name__", ex.function)
    for k, case in enumerate(ex.cases, 1):
        where = f"✗ Exercise {ex.number} ({name}), case {k} of {len(ex.cases)}: {_describe(case)}"
        result = _run_case(ex, fn, name, where, case)
        if result is not None:
            return result
    return Result(
        ex.number,
        "passed",
        f"✓ Exercise {ex.number} ({name}): all {len(ex.cases)} cases agree with lenet.",
    )


def check(exercise, fn):
    """Print ✓ if fn is right, or "not attempted yet"; raise ExerciseFailed if it is wrong."""
    result = run(exercise, fn)
    if result.status == "failed":
        raise ExerciseFailed(result.message) from None
    print(result.message)


def or_reference(exercise, fn):
    """fn when it passes the exercise's check, else lenet's reference (saying so in one line)."""
    result = run(exercise, fn)
    if result.passed:
        return fn
    ex = _exercise(exercise)
    why = "not attempted yet" if result.status == "not attempted" else "not passing its check yet"
    print(f"(Exercise {ex.number} is {why}: below, lenet's version of {ex.function} stands in.)")
    return ex.reference


def _exercise(number):
    try:
        return EXERCISES[str(number)]
    except KeyError:
        raise ValueError(f"no exercise {number!r}; there are: {', '.join(EXERCISES)}") from None


# ---------------------------------------------------------------------------------------------
# Helpers for references and typical mistakes (float64 throughout)


def _rng(seed):
    return np.random.default_rng(seed)


def _conv(W, b, stride=1, padding=0):
    """A float64 lenet.Conv2d holding W: (O, C, K, K) and b: (O,) (no bias when b is None)."""
    out_c, in_c, k, _ = W.shape
    layer = Conv2d(in_c, out_c, k, stride, padding, bias=b is not None, dtype=np.float64)
    layer.params["W"][...] = W
    if b is not None:
        layer.params["b"][...] = b
    return layer


def _windows(shape, k, s):
    """(i, j, index) of every K x K window, stride S, of an (N, C, H, W) array, row-major."""
    h_out, w_out = (shape[2] - k) // s + 1, (shape[3] - k) // s + 1
    for i in range(h_out):
        for j in range(w_out):
            yield i, j, (slice(None), slice(None), slice(i * s, i * s + k), slice(j * s, j * s + k))


def _onehot(labels, k):
    return np.eye(k)[labels]


# 1 · Linear regression ------------------------------------------------------------------------


def _mse(pred, target):
    return MSELoss().forward(pred, target)


def _mse_gradient(pred, target):
    loss = MSELoss()
    loss.forward(pred, target)
    return loss.backward()


_MSE_CASES = tuple(
    Case(
        label, {"pred": _rng(seed).normal(size=shape), "target": _rng(seed + 1).normal(size=shape)}
    )
    for label, shape, seed in [
        ("a vector of 5 predictions", (5,), 1),
        ("a column (N, 1)", (4, 1), 3),
        ("3 outputs per example", (4, 3), 5),
    ]
)

# 2 · Gradient descent --------------------------------------------------------------------------


def _bowl_gradient(x):
    """the gradient of (x - 3)^2 + 1"""
    return 2 * (x - 3)


def _tilted_bowl_gradient(x):
    """the gradient of x1^2 + 10 x2^2"""
    return np.array([2.0, 20.0]) * x


def _descend(grad, x0, lr, steps):
    path = [np.array(x0, dtype=np.float64)]
    for _ in range(steps):
        path.append(path[-1] - lr * grad(path[-1]))
    return np.array(path)


def _descend_in_place(grad, x0, lr, steps):
    x = np.array(x0, dtype=np.float64)
    path = [x]
    for _ in range(steps):
        x -= lr * grad(x)
        path.append(x)
    return np.array(path)


def _gd_step(W, b, X, y, lr):
    layer = Linear(*W.shape, dtype=np.float64)
    layer.params["W"][...], layer.params["b"][...] = W, b
    loss = MSELoss()
    loss.forward(layer.forward(X), y)
    layer.backward(loss.backward())
    return W - lr * layer.grads["W"], b - lr * layer.grads["b"]


def _gd_step_scaled(W, b, X, y, lr, factor):
    """A step whose gradients are X.T err and sum(err) times factor (right: factor = 2 / N)."""
    err = X @ W + b - y  # (N, 1)
    return W - lr * factor * X.T @ err, b - lr * factor * err.sum(axis=0)


# 3 · Backpropagation ---------------------------------------------------------------------------


def _linear_backward(x, W, dout):
    layer = Linear(*W.shape, dtype=np.float64)
    layer.params["W"][...] = W
    layer.forward(x)
    dx = layer.backward(dout)
    return dx, layer.grads["W"], layer.grads["b"]


def _cubes(x):
    """sum(x^3)"""
    return float(np.sum(x**3))


def _wiggle(x):
    """sum(sin(3x)) + x[0]^2"""
    return float(np.sum(np.sin(3 * x)) + x.flat[0] ** 2)


def _numgrad_reference(f, x, eps=1e-6):
    return numerical_gradient(f, x.copy(), eps)


def _forward_difference(f, x, eps):
    x = x.copy()
    grad = np.zeros(x.shape)
    base = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        grad[i] = (f(x) - base) / eps
        x[i] = old
    return grad


# 4 · Activations -------------------------------------------------------------------------------


def _layer_backward(layer, x, dout):
    layer.forward(x)
    return layer.backward(dout)


def _sigmoid(x):
    return Sigmoid().forward(x)


_ACT_X = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0], [1.5, 0.0, -1.0, 2.0, -3.0]])

# 5 · Convolution -------------------------------------------------------------------------------


def _conv_output_size(H, K, S, P):
    return Conv2d(1, 1, K, S, P, dtype=np.float64).forward(np.zeros((1, 1, H, H))).shape[-1]


def _conv_forward(x, W, b, stride=1, padding=0):
    return _conv(W, b, stride, padding).forward(x)


def _out(x, W, stride, padding, axis=2):
    """The output size of a convolution of x with W along one axis (2: height, 3: width)."""
    return (x.shape[axis] + 2 * padding - W.shape[-1]) // stride + 1


def _conv_backward(x, W, dy, stride=1, padding=0):
    layer = _conv(W, None, stride, padding)
    layer.forward(x)
    dx = layer.backward(dy)
    return dx, layer.grads["W"], dy.sum(axis=(0, 2, 3))


def _conv_backward_assigning(x, W, dy, stride, padding):
    """The notebook's loops (n, o, then windows) with dx[window] = ... instead of +=."""
    xp = np.pad(x, _pad_width(padding))
    dxp = np.zeros_like(xp)
    for n in range(dy.shape[0]):
        for o in range(dy.shape[1]):
            for i, j, win in _windows(xp.shape, W.shape[-1], stride):
                dxp[n][win[1:]] = dy[n, o, i, j] * W[o]
    h, w = x.shape[2:]
    _, dW, db = _conv_backward(x, W, dy, stride, padding)
    return dxp[:, :, padding : padding + h, padding : padding + w], dW, db


def _conv_cases():
    r = _rng(5)
    shapes = [  # label, x shape, W shape, stride, padding
        ("one channel, 3x3 kernel", (1, 1, 5, 5), (1, 1, 3, 3), 1, 0),
        ("padding 1, 3 channels in and out", (2, 3, 5, 5), (3, 3, 3, 3), 1, 1),
        ("stride 2, padding 1, odd non-square image", (2, 3, 7, 6), (4, 3, 3, 3), 2, 1),
        ("padding 2, 5x5 kernel", (1, 2, 6, 8), (2, 2, 5, 5), 1, 2),
        ("stride 3, as many output as input channels", (1, 3, 8, 7), (3, 3, 2, 2), 3, 0),
    ]
    forward, backward = [], []
    for label, xs, ws, s, p in shapes:
        x, W, b = r.normal(size=xs), r.normal(size=ws), r.normal(size=ws[0])
        dout = r.normal(size=_conv_forward(x, W, b, s, p).shape)
        forward.append(Case(label, {"x": x, "W": W, "b": b, "stride": s, "padding": p}))
        backward.append(Case(label, {"x": x, "W": W, "dy": dout, "stride": s, "padding": p}))
    return tuple(forward), tuple(backward)


_CONV_FORWARD_CASES, _CONV_BACKWARD_CASES = _conv_cases()

# 6 · Pooling -----------------------------------------------------------------------------------


def _pool(x, K, S, P=0, kind="max"):
    pool = MaxPool2d(K, S, P) if kind == "max" else AvgPool2d(K, S, P)
    return pool.forward(x)


def _pad_width(p):
    return ((0, 0), (0, 0), (p, p), (p, p))


def _avgpool_excluding_padding(x, K, S, P, kind):
    """Average pooling that divides by the number of real (unpadded) pixels in each window."""
    if kind == "max":
        return _pool(x, K, S, P, kind)
    counts = _pool(np.ones((1, 1, *x.shape[2:])), K, S, P, "avg")
    return _pool(x, K, S, P, "avg") / counts


def _maxpool_backward(x, dout, kernel_size, stride):
    return _layer_backward(MaxPool2d(kernel_size, stride), x, dout)


def _maxpool_backward_loop(x, dy, k, s, route, accumulate=True):
    """Max-pool backward as loops; route(window) -> the weight of each of its K x K inputs."""
    dx = np.zeros_like(x)
    for i, j, win in _windows(x.shape, k, s):
        for n in range(x.shape[0]):
            for c in range(x.shape[1]):
                weights = route(x[win][n, c])
                if accumulate:
                    dx[win][n, c] += weights * dy[n, c, i, j]
                else:  # `=` where the gradient goes: a later window overwrites an earlier one
                    dx[win][n, c][weights != 0] = dy[n, c, i, j]
    return dx


def _first_max(window):
    mask = np.zeros(window.shape)
    mask[np.unravel_index(np.argmax(window), window.shape)] = 1
    return mask


def _last_max(window):
    flat = window.ravel()
    mask = np.zeros(flat.shape)
    mask[flat.size - 1 - np.argmax(flat[::-1])] = 1
    return mask.reshape(window.shape)


def _avgpool_backward(dout, x_shape, kernel_size, stride):
    return _layer_backward(AvgPool2d(kernel_size, stride), np.zeros(x_shape), dout)


def _avgpool_backward_loop(dout, x_shape, k, s, scale, accumulate=True):
    dx = np.zeros(x_shape)
    for i, j, win in _windows(x_shape, k, s):
        share = dout[:, :, i, j][:, :, None, None] * scale
        if accumulate:
            dx[win] += share
        else:
            dx[win] = np.broadcast_to(share, dx[win].shape)
    return dx


def _pool_cases():
    r = _rng(6)
    ties = np.array([[1, 3, 3, 0], [3, 2, 1, 5], [0, 0, 2, 2], [0, 0, 2, 2]], float)[None, None]
    relu_like = np.maximum(r.normal(size=(2, 2, 5, 5)), 0).round(1)  # all-zero windows and ties
    inputs = [  # label, x, K, S
        ("ties inside 2x2 windows", ties, 2, 2),
        ("overlapping 3x3 windows, stride 1, ties", np.maximum(ties, 1).repeat(2, 0), 3, 1),
        ("after a ReLU: all-zero windows", relu_like, 2, 2),
        ("3x3 windows with stride 2, odd size", r.normal(size=(2, 3, 7, 5)), 3, 2),
        ("2x2 windows with stride 1", r.normal(size=(1, 2, 4, 5)), 2, 1),
    ]  # fmt: skip
    backward, avg = [], []
    for label, x, k, s in inputs:
        dout = r.normal(size=_pool(x, k, s).shape)
        backward.append(Case(label, {"x": x, "dy": dout, "K": k, "S": s}))
        avg.append(Case(label, {"dy": dout, "x_shape": x.shape, "K": k, "S": s}))
    return tuple(backward), tuple(avg[2:])


_POOL_BACKWARD_CASES, _AVGPOOL_CASES = _pool_cases()


def _pool_naive_cases():
    r = _rng(61)
    ties = np.array([[1, 3, 3, 0], [3, 2, 1, 5], [0, 0, 2, 2], [0, 0, 2, 2]], float)[None, None]
    negative = -np.abs(r.normal(size=(2, 2, 5, 5))) - 0.1  # every value below the zero padding
    cases = [  # label, x, K, S, P, kind
        ("max, 2x2 windows with ties", ties, 2, 2, 0, "max"),
        ("average, 2x2 windows", ties, 2, 2, 0, "avg"),
        ("max, 3x3 windows, stride 2, odd size", r.normal(size=(2, 3, 7, 5)), 3, 2, 0, "max"),
        ("max, overlapping 3x3 windows, stride 1", r.normal(size=(1, 2, 5, 6)), 3, 1, 0, "max"),
        ("max, padding 1 around negative values", negative, 3, 2, 1, "max"),
        ("average, padding 1", r.normal(size=(1, 2, 5, 5)), 3, 2, 1, "avg"),
    ]
    return tuple(
        Case(label, {"x": x, "K": k, "S": s, "P": p, "kind": kind})
        for label, x, k, s, p, kind in cases
    )


_POOL_NAIVE_CASES = _pool_naive_cases()

# 7 · Softmax and cross-entropy -----------------------------------------------------------------


def _naive_softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _cross_entropy(logits, labels):
    return SoftmaxCrossEntropy().forward(logits, labels)


def _ce_gradient(logits, labels):
    loss = SoftmaxCrossEntropy()
    loss.forward(logits, labels)
    return loss.backward()


def _softmax_cases():
    r = _rng(7)
    return (
        Case("3 x 3 scores", {"z": r.normal(size=(3, 3))}),
        Case("4 examples, 10 classes", {"z": r.normal(size=(4, 10)) * 3}),
        Case("large logits", {"z": np.array([[1000.0, 999.0, 0.0], [-5.0, 2.0, 1.0]])}),
        Case("rows of very different size", {"z": np.array([[1.0, 2, 3], [-1000, -999, -1001]])}),
    )  # fmt: skip


def _ce_cases():
    r = _rng(8)
    return (
        Case("3 examples, 3 classes",
             {"logits": r.normal(size=(3, 3)), "labels": np.array([2, 0, 2])}),
        Case("5 examples, 10 classes",
             {"logits": r.normal(size=(5, 10)) * 3, "labels": np.array([3, 3, 9, 0, 1])}),
        Case("large logits, a confident wrong answer",
             {"logits": np.array([[1000.0, 0, -1000], [0, 800, 0]]), "labels": np.array([1, 1])}),
    )  # fmt: skip


# 11 · LeNet-5 as published in 1998 ----------------------------------------------------------


def _c3_forward(x, W, b, table):
    layer = MaskedConv2d(table.shape[1], table.shape[0], W.shape[-1], table, dtype=np.float64)
    layer.params["W"][...], layer.params["b"][...] = W, b  # forward applies W * mask
    return layer.forward(x)


def _c3_cases():
    r = _rng(11)
    lower = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1]], bool)
    part = np.array([[1, 1, 0, 0], [0, 1, 0, 1]], bool)
    cases = [  # label, x shape, table, K
        ("3 maps, an asymmetric table", (1, 3, 5, 6), lower, 3),
        ("2 maps reading 4, odd sizes", (2, 4, 7, 5), part, 3),
        ("the real C3 table", (2, 6, 7, 7), np.array(C3_TABLE), 5),
    ]
    return tuple(
        Case(label, {"x": r.normal(size=xs), "W": r.normal(size=(*t.shape, k, k)),
                     "b": r.normal(size=t.shape[0]), "table": t})
        for label, xs, t, k in cases
    )  # fmt: skip


_PROTOTYPES = DIGIT_BITMAPS.reshape(10, -1)  # (10, 84)


def _rbf_output(x):
    return RBFOutput().forward(x)


def _rbf_backward(x, dout):
    return _layer_backward(RBFOutput(), x, dout)


def _rbf_cases(with_dout):
    r = _rng(12)
    cases = []
    for label, x in [
        ("one example", r.normal(size=(1, 84))),
        ("three examples near +-1", np.tanh(2 * r.normal(size=(3, 84)))),
        ("digit 7's own bitmap", _PROTOTYPES[[7, 1]] + 0.1 * r.normal(size=(2, 84))),
    ]:
        args = {"x": x, "dout": r.normal(size=(len(x), 10))} if with_dout else {"x": x}
        cases.append(Case(label, args))
    return tuple(cases)


# ---------------------------------------------------------------------------------------------
# The exercises


_NO_N = "forgot to divide by N: the loss is a *mean*, so its gradient carries 1/N"

EXERCISES = {
    ex.number: ex
    for ex in [
        Exercise(
            "1.1",
            "mse",
            "return the mean squared error of pred against target (a float)",
            _mse,
            _MSE_CASES,
            (
                Mistake(
                    lambda p, t: np.sum((p - t) ** 2),
                    "you summed the squared errors: divide by their number (np.mean)",
                ),
                Mistake(
                    lambda p, t: np.mean(p - t),
                    "square each error before averaging, or + and - errors cancel",
                ),
                Mistake(
                    lambda p, t: np.sqrt(np.mean((p - t) ** 2)),
                    "that is the root of the mean squared error (RMSE): leave out the sqrt",
                ),
                Mistake(
                    lambda p, t: np.mean((p - t) ** 2) / 2,
                    "you halved the mean squared error: the 1/2 convention is not ours",
                ),
                Mistake(
                    lambda p, t: np.mean(np.abs(p - t)),
                    "that is the mean *absolute* error: square the errors instead",
                ),
            ),
            ("the loss",),
        ),
        Exercise(
            "1.2",
            "mse_gradient",
            "return dJ/dpred, the gradient of the mean squared error (shaped like pred)",
            _mse_gradient,
            _MSE_CASES,
            (
                Mistake(lambda p, t: 2 * (p - t), _NO_N),
                Mistake(
                    lambda p, t: (p - t) / p.size,
                    "the derivative of e^2 is 2e: the factor 2 is missing",
                ),
                Mistake(
                    lambda p, t: 2 * (t - p) / p.size,
                    "wrong sign: the derivative of (pred - target)^2 with respect to pred "
                    "is +2 (pred - target)",
                ),
                Mistake(
                    lambda p, t: 2 * (p - t) / len(p),
                    "you divided by the number of rows; the mean runs over every element, "
                    "so divide by pred.size",
                ),
            ),
            ("dJ/dpred",),
        ),
        Exercise(
            "2.1",
            "descend",
            "return the path [x0, x1, ..., x_steps] of x <- x - lr * grad(x)",
            _descend,
            (
                Case(
                    "the parabola from x0 = 0",
                    {"grad": _bowl_gradient, "x0": 0.0, "lr": 0.1, "steps": 5},
                ),
                Case(
                    "a 2-D bowl from (1, 1)",
                    {
                        "grad": _tilted_bowl_gradient,
                        "x0": np.array([1.0, 1.0]),
                        "lr": 0.04,
                        "steps": 3,
                    },
                ),
            ),  # fmt: skip
            (
                Mistake(
                    lambda g, x0, lr, s: _descend(lambda x: -g(x), x0, lr, s),
                    "you walk uphill: step *against* the gradient, x - lr * grad(x)",
                ),
                Mistake(
                    lambda g, x0, lr, s: _descend(g, x0, lr, s)[1:],
                    "the path should start with x0 itself: steps + 1 points in all",
                ),
                Mistake(
                    lambda g, x0, lr, s: _descend(g, x0, lr, s + 1),
                    "one step too many: `steps` updates give steps + 1 points",
                ),
                Mistake(
                    lambda g, x0, lr, s: _descend(g, x0, 1.0, s),
                    "the learning rate is missing: x - lr * grad(x)",
                ),
                Mistake(
                    _descend_in_place,
                    "every point of your path is the same array, updated in place by "
                    "`x -= ...`: append a copy, or write x = x - lr * grad(x)",
                ),
            ),
            ("the path",),
        ),
        Exercise(
            "2.2",
            "gd_step",
            "return (W_new, b_new) after one gradient-descent step on the mean squared error",
            _gd_step,
            tuple(
                Case(
                    label,
                    {
                        "W": r.normal(size=(d, 1)),
                        "b": r.normal(size=1),
                        "X": r.normal(size=(n, d)),
                        "y": r.normal(size=(n, 1)),
                        "lr": lr,
                    },
                )
                for label, n, d, lr, r in [
                    ("4 examples, 3 features", 4, 3, 0.1, _rng(21)),
                    ("7 examples, 2 features", 7, 2, 0.05, _rng(22)),
                ]
            ),  # fmt: skip
            (
                Mistake(lambda W, b, X, y, lr: _gd_step_scaled(W, b, X, y, lr, 2), _NO_N),
                Mistake(
                    lambda W, b, X, y, lr: _gd_step_scaled(W, b, X, y, lr, -2 / len(X)),
                    "you step uphill: subtract lr * gradient",
                ),
                Mistake(
                    lambda W, b, X, y, lr: _gd_step_scaled(W, b, X, y, lr, 1 / len(X)),
                    "the derivative of e^2 is 2e: the factor 2 is missing",
                ),
                Mistake(
                    lambda W, b, X, y, lr: (
                        W - lr * 2 * X.T @ (X @ W + b - y) / len(X),
                        b - lr * 2 * np.mean(X @ W + b - y) / len(X),
                    ),
                    "db is the sum of 2 err / N over the batch; you divided by N twice",
                ),
            ),  # fmt: skip
            ("W_new", "b_new"),
        ),
        Exercise(
            "3.1",
            "linear_backward",
            "return (dx, dW, db) of y = x @ W + b for the upstream dout",
            _linear_backward,
            tuple(
                Case(
                    label,
                    {
                        "x": r.normal(size=(n, d)),
                        "W": r.normal(size=(d, m)),
                        "dout": r.normal(size=(n, m)),
                    },
                )
                for label, n, d, m, r in [
                    ("square W (3 in, 3 out)", 4, 3, 3, _rng(31)),
                    ("3 in, 2 out", 5, 3, 2, _rng(32)),
                    ("one example", 1, 4, 3, _rng(33)),
                ]
            ),  # fmt: skip
            (
                Mistake(
                    lambda x, W, d: (d @ W, x.T @ d, d.sum(0)),
                    "dx = dout @ W.T: W must be transposed to map (N, out) back to (N, in)",
                ),
                Mistake(
                    lambda x, W, d: (d @ W.T, d.T @ x, d.sum(0)),
                    "dW = x.T @ dout, shape (in, out) like W; you have its transpose",
                ),
                Mistake(
                    lambda x, W, d: (d @ W.T, x.T @ d, d.mean(0)),
                    "db sums dout over the batch (b is added to every row); you averaged",
                ),
                Mistake(
                    lambda x, W, d: (d @ W.T, x.T @ d / len(x), d.sum(0) / len(x)),
                    "no division by N here: dout already carries the loss's 1/N",
                ),
                Mistake(
                    lambda x, W, d: (d @ W.T, x.T @ d, d),
                    "db must be summed over the batch axis: dout.sum(axis=0), shape (out,)",
                ),
            ),  # fmt: skip
            ("dx", "dW", "db"),
        ),
        Exercise(
            "3.2",
            "numerical_gradient",
            "return df/dx by central differences (f(x + eps) - f(x - eps)) / (2 eps), per element",
            _numgrad_reference,
            (
                Case(
                    "a vector, eps = 1e-3",
                    {"f": _cubes, "x": np.array([0.5, -1.0, 2.0]), "eps": 1e-3},
                ),
                Case(
                    "a 2 x 3 matrix", {"f": _wiggle, "x": _rng(34).normal(size=(2, 3)), "eps": 1e-4}
                ),
            ),  # fmt: skip
            (
                Mistake(
                    _forward_difference,
                    "that is the one-sided difference (f(x + eps) - f(x)) / eps: use the "
                    "central one, (f(x + eps) - f(x - eps)) / (2 eps), far more accurate",
                ),
                Mistake(
                    lambda f, x, eps: 2 * _numgrad_reference(f, x, eps),
                    "divide by 2 eps: the two points lie 2 eps apart",
                ),
                Mistake(
                    lambda f, x, eps: -_numgrad_reference(f, x, eps),
                    "wrong sign: f(x + eps) comes first in the difference",
                ),
            ),  # fmt: skip
            ("the gradient",),
        ),
        Exercise(
            "4.1",
            "relu_backward",
            "return dL/dx of the ReLU for the upstream gradient dout (shaped like x)",
            lambda x, dout: _layer_backward(ReLU(), x, dout),
            (
                Case(
                    "a 2 x 5 batch with zeros", {"x": _ACT_X, "dout": _rng(41).normal(size=(2, 5))}
                ),
                Case(
                    "images (N, C, H, W)",
                    {
                        "x": _rng(42).normal(size=(2, 3, 4, 5)).round(1),
                        "dout": _rng(43).normal(size=(2, 3, 4, 5)),
                    },
                ),
            ),  # fmt: skip
            (
                Mistake(
                    lambda x, d: (x > 0).astype(float),
                    "multiply by the upstream gradient dout: dL/dx = dout * relu'(x)",
                ),
                Mistake(
                    lambda x, d: d * (x >= 0),
                    "at x = 0 the derivative is taken as 0 (x > 0, not x >= 0), as lenet "
                    "and PyTorch do",
                ),
                Mistake(
                    lambda x, d: np.maximum(d, 0),
                    "the mask comes from x (where x > 0), not from dout",
                ),
                Mistake(
                    lambda x, d: np.maximum(x, 0) * d,
                    "relu'(x) is 1 or 0, not relu(x): use (x > 0)",
                ),
            ),  # fmt: skip
            ("dx",),
        ),
        Exercise(
            "4.2",
            "sigmoid_backward",
            "return dL/dx of the sigmoid for the upstream gradient dout (shaped like x)",
            lambda x, dout: _layer_backward(Sigmoid(), x, dout),
            (
                Case("a 2 x 5 batch", {"x": _ACT_X, "dout": _rng(44).normal(size=(2, 5))}),
                Case(
                    "large |x|",
                    {"x": np.array([[-30.0, 30.0, -700.0, 5.0]]), "dout": np.ones((1, 4))},
                ),
            ),  # fmt: skip
            (
                Mistake(
                    lambda x, d: d * x * (1 - x),
                    "s (1 - s) uses the sigmoid's output s = sigmoid(x), not x itself",
                ),
                Mistake(
                    lambda x, d: _sigmoid(x) * (1 - _sigmoid(x)),
                    "multiply by the upstream gradient dout: dL/dx = dout * s (1 - s)",
                ),
                Mistake(lambda x, d: d * _sigmoid(x), "the derivative is s (1 - s), not s"),
                Mistake(
                    lambda x, d: d * (1 - np.tanh(x) ** 2),
                    "that is tanh's derivative; sigmoid's is s (1 - s)",
                ),
            ),  # fmt: skip
            ("dx",),
        ),
        Exercise(
            "5.1",
            "out_size",
            "return H', the number of positions of the window along one axis (an int)",
            _conv_output_size,
            tuple(
                Case(label, dict(zip("HKSP", v, strict=True)))
                for label, v in [
                    ("LeNet's C1", (28, 5, 1, 2)),
                    ("stride 2, padding 1", (7, 3, 2, 1)),
                    ("a stride that does not divide evenly", (8, 3, 2, 0)),
                    ("kernel as large as the image", (5, 5, 1, 0)),
                    ("stride 3, padding 2", (10, 3, 3, 2)),
                ]
            ),  # fmt: skip
            (
                Mistake(
                    lambda H, K, S, P: (H + 2 * P - K) // S,
                    "the +1 is missing: a window that fits exactly still counts once",
                ),
                Mistake(
                    lambda H, K, S, P: (H + P - K) // S + 1, "padding goes on both sides: H + 2P"
                ),
                Mistake(
                    lambda H, K, S, P: (H + 2 * P - K) / S + 1,
                    "round down with // : a window that sticks out of the image does not count",
                ),
            ),  # fmt: skip
            ("H'",),
        ),
        Exercise(
            "5.2",
            "conv_naive",
            "return y (N, O, H', W'): the cross-correlation of x with W plus b, stride and padding",
            _conv_forward,
            _CONV_FORWARD_CASES,
            (
                Mistake(
                    lambda x, W, b, s, p: _conv_forward(x, W, b, s, 2 * p),
                    "the padding is applied twice (2P zeros per side): pad once, by P",
                ),
                Mistake(
                    lambda x, W, b, s, p: _conv_forward(x, W, b, s, p + 1),
                    "padding off by one: P + 1 zeros per side instead of P",
                ),
                Mistake(
                    lambda x, W, b, s, p: _conv_forward(x, W, b, s, max(p - 1, 0)),
                    "padding off by one: P - 1 zeros per side instead of P",
                ),
                Mistake(
                    lambda x, W, b, s, p: _conv_forward(x, W, b, s, p + 1)[
                        :, :, : _out(x, W, s, p), : _out(x, W, s, p, 3)
                    ],
                    "padding off by one: H' and W' are right, but the image got P + 1 zeros per "
                    "side (or P twice), so every window is shifted by a row and a column",
                ),
                Mistake(
                    lambda x, W, b, s, p: _conv_forward(
                        np.pad(x, ((0, 0), (0, 0), (0, p), (0, p))), W, b, s, 0
                    ),
                    "padding on one side only: P zeros go on *each* side (top and bottom, "
                    "left and right)",
                ),
                Mistake(
                    lambda x, W, b, s, p: _conv_forward(x, W, b, 1, p)[
                        :, :, : _out(x, W, s, p), : _out(x, W, s, p, 3)
                    ],
                    "your output has the right size, but the window does not move by the "
                    "stride: it starts at i * S, not i",
                ),
                Mistake(
                    lambda x, W, b, s, p: _conv_forward(x, W, b, 1, p),
                    "the stride is ignored: the window moves S pixels at a time",
                ),
                Mistake(
                    lambda x, W, b, s, p: _conv_forward(x, W, b, s, p)[:, :, :-1, :-1],
                    "the output size lost its +1: H' = (H + 2P - K) // S + 1",
                ),
                Mistake(
                    lambda x, W, b, s, p: _conv_forward(x, W[:, :, ::-1, ::-1], b, s, p),
                    "your kernel is flipped (true convolution); lenet, like every framework, "
                    "computes cross-correlation: x[.., iS + a, jS + d] * W[.., a, d]",
                ),
                Mistake(
                    lambda x, W, b, s, p: _conv_forward(x, W, None, s, p),
                    "the bias b[o] is missing",
                ),
                Mistake(
                    lambda x, W, b, s, p: _conv_forward(x, W.transpose(1, 0, 2, 3), b, s, p),
                    "W is (O, C, K, K): output channel first, then input channel",
                ),
            ),  # fmt: skip
            ("y",),
        ),
        Exercise(
            "5.3",
            "conv_backward_naive",
            "return (dx, dW, db) of the convolution for the upstream gradient dy (N, O, H', W')",
            _conv_backward,
            _CONV_BACKWARD_CASES,
            (
                Mistake(
                    lambda x, W, d, s, p: (
                        _conv_backward(np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))), W, d, s, 0)[0],
                        *_conv_backward(x, W, d, s, p)[1:],
                    ),
                    "dx still has the padding: cut P rows and columns off each side, "
                    "dx has the shape of x",
                ),
                Mistake(
                    _conv_backward_assigning,
                    "where windows overlap, each pixel collects gradient from every window "
                    "it is in: add with +=, do not assign with =",
                ),
                Mistake(
                    lambda x, W, d, s, p: (
                        *_conv_backward(x, W, d, s, p)[:2],
                        d.sum(axis=(0, 2, 3)) / len(x),
                    ),
                    "db is a sum over the batch and the positions, not a mean",
                ),
                Mistake(
                    lambda x, W, d, s, p: (*_conv_backward(x, W, d, s, p)[:2], d.sum(axis=(2, 3))),
                    "db must be summed over the batch too: dout.sum(axis=(0, 2, 3)), shape (O,)",
                ),
                Mistake(
                    lambda x, W, d, s, p: (
                        _conv_backward(x, W[:, :, ::-1, ::-1], d, s, p)[0],
                        *_conv_backward(x, W, d, s, p)[1:],
                    ),
                    "in the loop form no kernel flip is needed: "
                    "dx[window] += W[o] * dout[n, o, i, j]",
                ),
                Mistake(
                    lambda x, W, d, s, p: (
                        _conv_backward(x, W, d, s, p)[0],
                        _conv_backward(x, W, d, s, p)[1] / len(x),
                        _conv_backward(x, W, d, s, p)[2] / len(x),
                    ),
                    "no division by N here: dout already carries the loss's 1/N",
                ),
            ),  # fmt: skip
            ("dx", "dW", "db"),
        ),
        Exercise(
            "6.1",
            "pool_naive",
            "return y (N, C, H', W'): the max (kind='max') or mean ('avg') of each K x K window",
            _pool,
            _POOL_NAIVE_CASES,
            (
                Mistake(
                    lambda x, k, s, p, kind: _pool(x, k, s, p, "avg" if kind == "max" else "max"),
                    "max and average are swapped: kind='max' takes the largest value of each "
                    "window, kind='avg' its mean",
                ),
                Mistake(
                    lambda x, k, s, p, kind: _pool(x, k, k, p, kind),
                    "your windows are K apart; they move by the stride S (and may overlap)",
                ),
                Mistake(
                    lambda x, k, s, p, kind: _pool(x, k, 1, p, kind)[
                        :,
                        :,
                        : (x.shape[2] + 2 * p - k) // s + 1,
                        : (x.shape[3] + 2 * p - k) // s + 1,
                    ],
                    "your output has the right size, but the window does not move by the "
                    "stride: it starts at i * S, not i",
                ),
                Mistake(
                    lambda x, k, s, p, kind: _pool(x, k, s, p, kind)[:, :, :-1, :-1],
                    "the output size lost its +1: H' = (H + 2P - K) // S + 1",
                ),
                Mistake(
                    lambda x, k, s, p, kind: _pool(np.pad(x, _pad_width(p)), k, s, 0, kind),
                    "max pooling pads with -inf, not 0: a zero in the padding would beat "
                    "negative values (np.pad(..., constant_values=-np.inf))",
                ),
                Mistake(
                    _avgpool_excluding_padding,
                    "average pooling divides by K*K even where the window covers padding "
                    "(the zeros count, as in PyTorch); you divided by the number of real pixels",
                ),
                Mistake(
                    lambda x, k, s, p, kind: _pool(
                        np.pad(x, _pad_width(p), constant_values=-np.inf if kind == "max" else 0),
                        k,
                        s,
                        p,
                        kind,
                    ),
                    "the padding is applied twice (2P per side): pad once, by P",
                ),
            ),
            ("y",),
        ),
        Exercise(
            "6.2",
            "maxpool_backward_naive",
            "return dx (N, C, H, W): each window's dy routed to its first maximum",
            _maxpool_backward,
            _POOL_BACKWARD_CASES,
            (
                Mistake(
                    lambda x, d, k, s: _maxpool_backward_loop(x, d, k, s, lambda w: w == w.max()),
                    "a window with tied maxima gives its gradient to *every* tie: the "
                    "gradient is duplicated. Route it to one maximum only, the first "
                    "(np.argmax), as lenet and PyTorch do",
                ),
                Mistake(
                    lambda x, d, k, s: _maxpool_backward_loop(
                        x, d, k, s, lambda w: (w == w.max()) / (w == w.max()).sum()
                    ),
                    "a window with tied maxima splits its gradient between the ties: give "
                    "all of it to the first maximum (np.argmax), as lenet and PyTorch do",
                ),
                Mistake(
                    lambda x, d, k, s: _maxpool_backward_loop(x, d, k, s, _last_max),
                    "on ties your gradient goes to the *last* maximum; lenet and PyTorch "
                    "pick the first in row-major order (np.argmax)",
                ),
                Mistake(
                    lambda x, d, k, s: _maxpool_backward_loop(x, d, k, s, _first_max, False),
                    "where windows overlap, a pixel that is the maximum of two windows "
                    "collects both gradients: add with +=, do not assign with =",
                ),
                Mistake(
                    lambda x, d, k, s: _avgpool_backward(d, x.shape, k, s),
                    "that is average pooling's gradient (spread evenly); max pooling gives "
                    "everything to the maximum",
                ),
            ),  # fmt: skip
            ("dx",),
        ),
        Exercise(
            "6.3",
            "avgpool_backward",
            "return dx of shape x_shape: each window's dy / K^2 added to its K x K inputs",
            _avgpool_backward,
            _AVGPOOL_CASES,
            (
                Mistake(
                    lambda d, xs, k, s: _avgpool_backward_loop(d, xs, k, s, 1.0),
                    "divide by K*K: each input has weight 1/K^2 in the mean",
                ),
                Mistake(
                    lambda d, xs, k, s: _avgpool_backward_loop(d, xs, k, s, 1.0 / k),
                    "divide by K*K (the window's area), not K",
                ),
                Mistake(
                    lambda d, xs, k, s: _avgpool_backward_loop(d, xs, k, s, 1.0 / k**2, False),
                    "where windows overlap, a pixel collects gradient from every window: "
                    "add with +=, do not assign with =",
                ),
            ),  # fmt: skip
            ("dx",),
        ),
        Exercise(
            "7.1",
            "stable_softmax",
            "return softmax(z) row by row, z: (N, K), without overflow",
            softmax,
            _softmax_cases(),
            (
                Mistake(
                    _naive_softmax,
                    "overflow: exp(1000) is inf. Subtract each row's maximum first; "
                    "softmax does not change when you shift a row",
                ),
                Mistake(
                    lambda z: _naive_softmax(z - z.max()),
                    "you subtracted the maximum of the whole array: a row far below it "
                    "underflows to 0/0. Subtract each row's own max (axis=1, keepdims=True)",
                ),
                Mistake(
                    lambda z: softmax(z.T).T,
                    "you normalised the columns: each *row* (one example) must sum to 1; "
                    "use axis=1",
                ),
                Mistake(
                    lambda z: np.exp(z - z.max(axis=1)) / np.exp(z - z.max(axis=1)).sum(axis=1),
                    "keepdims=True is missing: z.max(axis=1) has shape (N,) and broadcasts "
                    "along the wrong axis",
                ),
            ),  # fmt: skip
            ("p",),
        ),
        Exercise(
            "7.2",
            "cross_entropy",
            "return the mean over the batch of -log softmax(logits)[label], a float",
            _cross_entropy,
            _ce_cases(),
            (
                Mistake(
                    lambda z, y: -log_softmax(z)[np.arange(len(y)), y].sum(),
                    "you summed over the batch: the loss is the *mean* (divide by N)",
                ),
                Mistake(
                    lambda z, y: -np.log(_naive_softmax(z)[np.arange(len(y)), y]).mean(),
                    "overflow: exp of a large logit is inf, and log(0) is -inf. Compute "
                    "log softmax directly: z - max - log(sum(exp(z - max)))",
                ),
                Mistake(
                    lambda z, y: -np.log(softmax(z)[np.arange(len(y)), y]).mean(),
                    "log(softmax) underflows: a tiny probability rounds to 0 and log(0) = "
                    "-inf. Compute log softmax directly: z - max - log(sum(exp(z - max)))",
                ),
                Mistake(
                    lambda z, y: log_softmax(z)[np.arange(len(y)), y].mean(),
                    "wrong sign: the loss is -log p, a positive number",
                ),
                Mistake(
                    lambda z, y: -log_softmax(z)[:, y].mean(),
                    "logp[:, labels] picks whole columns: use logp[np.arange(N), labels] to "
                    "take one entry per row",
                ),
            ),  # fmt: skip
            ("the loss",),
        ),
        Exercise(
            "7.3",
            "cross_entropy_gradient",
            "return dL/dlogits (N, K) of the mean cross-entropy",
            _ce_gradient,
            _ce_cases(),
            (
                Mistake(lambda z, y: softmax(z) - _onehot(y, z.shape[1]), _NO_N),
                Mistake(
                    lambda z, y: (_onehot(y, z.shape[1]) - softmax(z)) / len(z),
                    "wrong sign: the gradient is p - onehot, so that a step against it "
                    "raises the right class's score",
                ),
                Mistake(
                    lambda z, y: softmax(z) / len(z),
                    "subtract 1 at each example's correct class: (p - onehot) / N",
                ),
                Mistake(
                    lambda z, y: (softmax(z) - _onehot(y, z.shape[1])) / z.shape[1],
                    "divide by N, the number of examples (rows), not by K, the classes",
                ),
                Mistake(
                    lambda z, y: (_naive_softmax(z) - _onehot(y, z.shape[1])) / len(z),
                    "overflow: exp(1000) is inf. Subtract each row's maximum before exp",
                ),
            ),  # fmt: skip
            ("dlogits",),
        ),
        Exercise(
            "11.1",
            "c3_forward",
            "return y (N, O, H-K+1, W-K+1): conv of x with W, output map o reading input map c "
            "only where table[o, c], plus b",
            _c3_forward,
            _c3_cases(),
            (
                Mistake(
                    lambda x, W, b, t: _conv_forward(x, W, b, 1, 0),
                    "the table is not applied: weights W[o, c] with table[o, c] False must "
                    "not count (multiply W by table[:, :, None, None])",
                ),
                Mistake(
                    lambda x, W, b, t: _c3_forward(x, W, b, t.T),
                    "table[o, c] says whether output map o reads input map c; you used table[c, o]",
                ),
                Mistake(
                    lambda x, W, b, t: _c3_forward(x, W, np.zeros_like(b), t),
                    "the bias b[o] is missing",
                ),
                Mistake(
                    lambda x, W, b, t: _c3_forward(x, W[:, :, ::-1, ::-1], b, t),
                    "your kernel is flipped (true convolution); like every framework, lenet "
                    "computes cross-correlation: x[.., i + a, j + d] * W[.., a, d]",
                ),
            ),  # fmt: skip
            ("y",),
        ),
        Exercise(
            "11.2",
            "rbf_output",
            "return -y (N, 10), y[n, i] = sum_j (x[n, j] - w[i, j])^2, w = the flattened bitmaps",
            _rbf_output,
            _rbf_cases(False),
            (
                Mistake(
                    lambda x: -_rbf_output(x),
                    "return the *negative* distances -y: the best digit is then the largest "
                    "output, as in every lenet model",
                ),
                Mistake(
                    lambda x: -np.sqrt(-_rbf_output(x)),
                    "y is the *squared* distance: leave out the square root",
                ),
                Mistake(
                    lambda x: (
                        -(
                            (
                                (x[:, None, :] - DIGIT_BITMAPS.transpose(0, 2, 1).reshape(10, -1))
                                ** 2
                            ).sum(-1)
                        )
                    ),
                    "flatten each 12 x 7 bitmap row by row (DIGIT_BITMAPS.reshape(10, -1)), "
                    "not column by column",
                ),
                Mistake(
                    lambda x: _rbf_output(x) / 84,
                    "sum the 84 squared differences, do not average them",
                ),
                Mistake(
                    lambda x: -(np.abs(x[:, None, :] - _PROTOTYPES).sum(-1)),
                    "square the differences (x_j - w_ij)^2; you summed their absolute values",
                ),
            ),  # fmt: skip
            ("-y",),
        ),
        Exercise(
            "11.3",
            "rbf_backward",
            "return dL/dx (N, 84) of the outputs -y for the upstream dout (N, 10)",
            _rbf_backward,
            _rbf_cases(True),
            (
                Mistake(
                    lambda x, d: -_rbf_backward(x, d),
                    "wrong sign: the layer returns -y, so d(-y_i)/dx = -2 (x - w_i)",
                ),
                Mistake(
                    lambda x, d: _rbf_backward(x, d) / 2,
                    "the derivative of (x_j - w_ij)^2 is 2 (x_j - w_ij): the 2 is missing",
                ),
                Mistake(
                    lambda x, d: 2 * d @ _PROTOTYPES,
                    "x appears in every unit's distance: the term -2 x sum_i dout_i is missing",
                ),
                Mistake(
                    lambda x, d: -2 * (x - d @ _PROTOTYPES),
                    "each unit contributes dout_i (x - w_i): x is multiplied by the sum of "
                    "dout over the 10 units, not by 1",
                ),
            ),  # fmt: skip
            ("dx",),
        ),
    ]
}
