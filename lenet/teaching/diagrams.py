"""Explanatory diagrams for the notebooks, drawn with matplotlib.

One function per picture: a neuron, a layered network, the sliding window, stride, padding, a
convolution over channels, the LeNet-5 architecture with the shape of every layer, backpropagation
on a computational graph, a convolution's input gradient as a scatter, and, drawn from data, a loss
surface J(w, b), raw against standardised loss bowls, and a shifted digit before and after
pooling. Each returns
a new ``matplotlib.figure.Figure`` that is not registered with pyplot: nothing is shown, saved or
kept alive until the caller displays it (in Jupyter, make it the last expression of a cell).
"""

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, Rectangle

from lenet.nn import MaxPool2d

__all__ = [
    "neuron",
    "layered_network",
    "sliding_window",
    "stride",
    "padding",
    "convolution_over_channels",
    "lenet5_architecture",
    "computational_graph",
    "convolution_input_gradient",
    "loss_surface",
    "loss_bowls",
    "pooling_shift",
]

_INPUT = "#dbe9f6"  # light blue: input pixels
_WINDOW = "#f4a259"  # orange: the kernel's window and the output it makes
_OUTPUT = "#d8efd3"  # light green: output pixels
_PAD = "#ffffff"


def _canvas(width, height, columns=1):
    """A figure with `columns` empty, equal-aspect axes without ticks."""
    fig = Figure(figsize=(width, height))
    axes = fig.subplots(1, columns, squeeze=False)[0]
    for ax in axes:
        ax.set_aspect("equal")
        ax.set_axis_off()
    return fig, list(axes)


def _arrow(ax, start, end, text=None, offset=0.25, **kwargs):
    ax.add_patch(
        FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color="0.3", **kwargs)
    )
    if text:
        mid = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + offset)
        ax.text(*mid, text, ha="center", va="bottom", fontsize=9)


def _grid(ax, x0, y0, rows, cols, color=_INPUT, cell=1.0, labels=None):
    """Cells of a rows x cols grid, row 0 at the top, lower-left corner of the grid at (x0, y0)."""
    for r in range(rows):
        for c in range(cols):
            x, y = x0 + c * cell, y0 + (rows - 1 - r) * cell
            ax.add_patch(Rectangle((x, y), cell, cell, facecolor=color, edgecolor="0.4", lw=0.8))
            if labels is not None:
                ax.text(
                    x + cell / 2, y + cell / 2, labels[r][c], ha="center", va="center", fontsize=8
                )


def _outline(ax, x0, y0, rows, row, col, size, color=_WINDOW, lw=2.5, fill=True, cell=1.0):
    """Highlight a size x size window whose top-left cell is (row, col) of a grid drawn by _grid."""
    x, y = x0 + col * cell, y0 + (rows - row - size) * cell
    face = (*_rgb(color), 0.55) if fill else "none"
    ax.add_patch(
        Rectangle((x, y), size * cell, size * cell, facecolor=face, edgecolor=color, lw=lw)
    )


def _rgb(color):
    color = color.lstrip("#")
    return tuple(int(color[i : i + 2], 16) / 255 for i in (0, 2, 4))


def neuron(n_inputs=3):
    """One artificial neuron: inputs x_i, weights w_i, a sum with bias b, an activation f."""
    fig, (ax,) = _canvas(7.5, 3.4)
    ys = np.linspace(2.4, 0.0, n_inputs)
    for i, y in enumerate(ys):
        ax.add_patch(Circle((0.4, y), 0.3, facecolor=_INPUT, edgecolor="0.3"))
        ax.text(0.4, y, f"$x_{i + 1}$", ha="center", va="center", fontsize=11)
        end = (3.1, 1.2 + 0.25 * (y - 1.2))
        _arrow(ax, (0.7, y), end)
        ax.text(1.5, y + 0.35 * (end[1] - y) + 0.1, f"$w_{i + 1}$", fontsize=11, color="C3")
    ax.add_patch(Circle((3.5, 1.2), 0.45, facecolor=_OUTPUT, edgecolor="0.3"))
    ax.text(3.5, 1.2, r"$\Sigma$", ha="center", va="center", fontsize=16)
    ax.add_patch(Circle((3.5, 2.7), 0.3, facecolor=_INPUT, edgecolor="0.3"))
    ax.text(3.5, 2.7, "$b$", ha="center", va="center", fontsize=11, color="C3")
    _arrow(ax, (3.5, 2.4), (3.5, 1.65))
    _arrow(ax, (3.95, 1.2), (5.6, 1.2))
    ax.text(4.75, 0.95, r"$z = \sum_i x_i w_i + b$", ha="center", va="top", fontsize=10)
    ax.add_patch(Rectangle((5.6, 0.8), 0.8, 0.8, facecolor=_WINDOW, edgecolor="0.3"))
    ax.text(6.0, 1.2, "$f$", ha="center", va="center", fontsize=14)
    _arrow(ax, (6.4, 1.2), (7.3, 1.2), "$y = f(z)$", offset=0.1)
    ax.set(xlim=(-0.1, 7.5), ylim=(-0.5, 3.1))
    ax.set_title("One neuron: a weighted sum, a bias, an activation", fontsize=11)
    return fig


def layered_network(sizes=(3, 5, 4, 2)):
    """A fully connected network: one column of units per layer, every unit wired to the next layer.

    Labels give each layer's width and each weight matrix's shape (in, out), as lenet.Linear
    stores it.
    """
    fig, (ax,) = _canvas(1.9 * len(sizes) + 1, 3.8)
    top = max(sizes)
    centres = []
    for k, n in enumerate(sizes):
        ys = np.arange(n)[::-1] - (n - 1) / 2
        centres.append([(2.0 * k, y) for y in ys])
    for k in range(len(sizes) - 1):
        for a in centres[k]:
            for b in centres[k + 1]:
                ax.plot([a[0], b[0]], [a[1], b[1]], color="0.75", lw=0.7, zorder=1)
        ax.text(
            2.0 * k + 1.0, top / 2 + 0.1, f"$W_{k + 1}$: ({sizes[k]}, {sizes[k + 1]})",
            ha="center", fontsize=9,
        )  # fmt: skip
    names = ["input"] + [f"hidden {k}" for k in range(1, len(sizes) - 1)] + ["output"]
    colors = [_INPUT] + [_OUTPUT] * (len(sizes) - 2) + [_WINDOW]
    for k, (layer, name) in enumerate(zip(centres, names, strict=True)):
        for x, y in layer:
            ax.add_patch(Circle((x, y), 0.28, facecolor=colors[k], edgecolor="0.3", zorder=2))
        ax.text(
            2.0 * k, -top / 2 - 0.45, f"{name}\n{sizes[k]} units", ha="center", va="top", fontsize=9
        )
    ax.set(xlim=(-0.6, 2.0 * (len(sizes) - 1) + 0.6), ylim=(-top / 2 - 1.5, top / 2 + 0.6))
    ax.set_title("A layered network: each layer is x → f(xW + b)", fontsize=11)
    return fig


def sliding_window(size=5, kernel_size=3, positions=((0, 0), (0, 1), (2, 2))):
    """The kernel's window at a few positions of the input, and the output number each one makes."""
    out = size - kernel_size + 1
    fig, axes = _canvas(3.6 * len(positions), 3.2, columns=len(positions))
    for ax, (i, j) in zip(axes, positions, strict=True):
        _grid(ax, 0, 0, size, size)
        _outline(ax, 0, 0, size, i, j, kernel_size)
        x0, y0 = size + 1.5, (size - out) / 2
        _grid(ax, x0, y0, out, out, color=_OUTPUT)
        _outline(ax, x0, y0, out, i, j, 1)
        _arrow(ax, (j + kernel_size, size - i - kernel_size / 2), (x0 + j, y0 + out - i - 0.5))
        ax.set_title(f"window at ({i}, {j}) → $y_{{{i}{j}}}$", fontsize=10)
        ax.set(xlim=(-0.3, x0 + out + 0.3), ylim=(-0.8, size + 0.3))
        ax.text(size / 2, -0.5, f"input {size}×{size}", ha="center", fontsize=9)
        ax.text(x0 + out / 2, y0 - 0.5, f"output {out}×{out}", ha="center", fontsize=9)
    fig.suptitle(
        f"A {kernel_size}×{kernel_size} kernel slides one pixel at a time: "
        f"each position gives one output number",
        fontsize=11,
    )
    return fig


def stride(size=7, kernel_size=3, step=2):
    """Windows along the first row with a given stride, and the smaller output they produce."""
    out = (size - kernel_size) // step + 1
    fig, (ax,) = _canvas(8, 4)
    _grid(ax, 0, 0, size, size)
    for c in range(out):
        color = f"C{c}"
        x, y = c * step, size - kernel_size
        ax.add_patch(
            Rectangle(
                (x + 0.06 * c, y + 0.06 * c), kernel_size - 0.12 * c, kernel_size - 0.12 * c,
                facecolor="none", edgecolor=color, lw=2.5,
            )
        )  # fmt: skip
    x0, y0 = size + 2, (size - out) / 2
    _grid(ax, x0, y0, out, out, color=_OUTPUT)
    for c in range(out):
        ax.add_patch(
            Rectangle((x0 + c, y0 + out - 1), 1, 1, facecolor="none", edgecolor=f"C{c}", lw=2.5)
        )
    _arrow(ax, (size + 0.2, size - 1.5), (x0 - 0.2, y0 + out - 0.5))
    ax.text(size / 2, -0.7, f"input {size}×{size}, kernel {kernel_size}×{kernel_size}", ha="center")
    ax.text(x0 + out / 2, y0 - 0.7, f"output {out}×{out}", ha="center")
    ax.text(
        x0 + out / 2, y0 + out + 0.6,
        f"$H' = \\lfloor ({size} - {kernel_size}) / {step} \\rfloor + 1 = {out}$",
        ha="center", fontsize=10,
    )  # fmt: skip
    ax.set(xlim=(-0.3, x0 + out + 0.8), ylim=(-1.2, size + 0.3))
    ax.set_title(f"Stride {step}: the window jumps {step} pixels, the output shrinks", fontsize=11)
    return fig


def padding(size=5, kernel_size=3):
    """Padding 0 versus 1: a ring of zeros lets the window sit on the border and keeps the size."""
    fig, axes = _canvas(10, 4.2, columns=2)
    for ax, pad in zip(axes, (0, 1), strict=True):
        full = size + 2 * pad
        out = full - kernel_size + 1
        labels = [
            ["0" if min(r, c) < pad or max(r, c) >= size + pad else "" for c in range(full)]
            for r in range(full)
        ]
        _grid(ax, 0, 0, full, full, labels=labels)
        for r in range(full):
            for c in range(full):
                if labels[r][c]:
                    ax.add_patch(
                        Rectangle((c, full - 1 - r), 1, 1, facecolor=_PAD, edgecolor="0.6", ls="--")
                    )
        _outline(ax, 0, 0, full, 0, 0, kernel_size)
        x0, y0 = full + 1.5, (full - out) / 2
        _grid(ax, x0, y0, out, out, color=_OUTPUT)
        _outline(ax, x0, y0, out, 0, 0, 1)
        _arrow(ax, (kernel_size, full - kernel_size / 2), (x0, y0 + out - 0.5))
        ax.text(full / 2, -0.7, f"input {size}×{size}, padding {pad}", ha="center", fontsize=9)
        ax.text(x0 + out / 2, y0 - 0.7, f"output {out}×{out}", ha="center", fontsize=9)
        ax.set(xlim=(-0.3, full + 1.5 + size + 0.3), ylim=(-1.2, size + 2 + 0.3))
        ax.set_title(f"padding {pad}: {size}×{size} → {out}×{out}", fontsize=10)
    fig.suptitle(f"Padding with a {kernel_size}×{kernel_size} kernel", fontsize=11)
    return fig


def _stack(ax, x, y, n, side, color, shift=0.35, window=None):
    """n squares of the given side drawn front to back with an oblique shift (a channel stack).

    Returns the lower-left corner of the front square. window=(row, col, size) highlights a window
    on every square.
    """
    for k in reversed(range(n)):
        x0, y0 = x + k * shift, y + k * shift
        ax.add_patch(Rectangle((x0, y0), side, side, facecolor=color, edgecolor="0.3", lw=0.9))
        if window is not None:
            r, c, s = window
            ax.add_patch(
                Rectangle(
                    (x0 + c, y0 + side - r - s), s, s,
                    facecolor=(*_rgb(_WINDOW), 0.6), edgecolor=_WINDOW, lw=1.5,
                )
            )  # fmt: skip
    return x, y


def convolution_over_channels(in_channels=3, out_channels=2, size=6, kernel_size=3):
    """A convolution over C input channels: each of the O kernels spans all C channels and makes one
    output map; the O maps are the output's channels."""
    out = size - kernel_size + 1
    window = (1, 2)  # top-left cell of the highlighted window
    fig, (ax,) = _canvas(11, 5.2)
    _stack(ax, 0, 1.2, in_channels, size, _INPUT, window=(*window, kernel_size))
    ax.text(size / 2 + 0.4, 0.6, f"input x: ({in_channels}, {size}, {size})", ha="center")
    ax.text(size / 2 + 0.4, 0.0, "(C, H, W)", ha="center", fontsize=9, color="0.4")
    kx, ox = size + 3.0, size + kernel_size + 6.5
    source = (window[1] + kernel_size, 1.2 + size - window[0] - kernel_size / 2)
    for o in range(out_channels):
        ky = 5.0 - o * 4.4
        _stack(ax, kx, ky, in_channels, kernel_size, (*_rgb(_WINDOW), 0.85), shift=0.3)
        ax.text(kx + 1.8, ky - 0.2, f"kernel W[{o}]: ({in_channels}, {kernel_size}, {kernel_size})",
                ha="center", va="top", fontsize=9)  # fmt: skip
        _arrow(ax, source, (kx - 0.2, ky + kernel_size / 2))
        oy = ky - 0.3
        _grid(ax, ox, oy, out, out, color=_OUTPUT)
        _outline(ax, ox, oy, out, *window, 1)
        _arrow(
            ax,
            (kx + kernel_size + 0.8, ky + kernel_size / 2),
            (ox + window[1] - 0.1, oy + out - window[0] - 0.5),
        )
        ax.text(ox + out + 0.3, oy + out / 2, f"channel {o}", va="center", fontsize=9)
    ax.text(ox + out / 2, -1.3, f"output y: ({out_channels}, {out}, {out})", ha="center")
    ax.text(ox + out / 2, -1.9, "(O, H', W')", ha="center", fontsize=9, color="0.4")
    ax.text(
        kx + 1.5, -2.9,
        r"$y_{o,i,j} = b_o + \sum_{c}\sum_{u,v} x_{c,\,i+u,\,j+v}\; W_{o,c,u,v}$",
        ha="center", fontsize=12,
    )  # fmt: skip
    ax.set(xlim=(-0.5, ox + out + 2.0), ylim=(-3.4, 8.8))
    ax.set_title(
        f"Convolution over channels: {out_channels} kernels of shape "
        f"({in_channels}, {kernel_size}, {kernel_size}) → {out_channels} output maps",
        fontsize=11,
    )
    return fig


# (name, channels or units, height, operation leading to it) of the modern LeNet-5
_LENET5 = [
    ("input", 1, 28, None),
    ("C1", 6, 28, "conv 5×5\npad 2, ReLU"),
    ("S2", 6, 14, "max pool\n2×2"),
    ("C3", 16, 10, "conv 5×5\nReLU"),
    ("S4", 16, 5, "max pool\n2×2"),
    ("F5", 120, None, "flatten 400,\nlinear, ReLU"),
    ("F6", 84, None, "linear\nReLU"),
    ("output", 10, None, "linear"),
]


def lenet5_architecture():
    """The modern LeNet-5 (lenet.LeNet5()), left to right, with the output shape of every layer.

    Feature maps are drawn as channel stacks with sides proportional to their height (at most 6
    squares per stack); fully connected layers as bars with heights proportional to their units.
    """
    fig, (ax,) = _canvas(15, 4.8)
    scale, shift, axis = 0.16, 0.18, 2.4  # drawing units per pixel, stack offset, arrow height
    x, previous_right = 0.0, None
    for name, channels, height, operation in _LENET5:
        if height is not None:
            side, shown = height * scale, min(channels, 6)
            bottom = axis - side / 2
            _stack(ax, x, bottom, shown, side, _INPUT if name == "input" else _OUTPUT, shift=shift)
            width = side + (shown - 1) * shift
            top = bottom + side + (shown - 1) * shift
            shape, label = (
                f"({channels}, {height}, {height})",
                f"{name}\n{channels}@{height}×{height}",
            )
        else:
            width, bar = 0.45, 0.025 * channels
            color = _WINDOW if name == "output" else _OUTPUT
            ax.add_patch(
                Rectangle((x, axis - bar / 2), width, bar, facecolor=color, edgecolor="0.3")
            )
            top = axis + bar / 2
            shape, label = f"({channels},)", f"{name}\n{channels}"
        ax.text(x + width / 2, top + 0.15, label, ha="center", va="bottom", fontsize=9)
        ax.text(x + width / 2, -0.2, shape, ha="center", va="top", fontsize=8.5, color="0.25")
        if previous_right is not None:
            _arrow(ax, (previous_right + 0.1, axis), (x - 0.1, axis))
            ax.text((previous_right + x) / 2, axis + 0.15, operation, ha="center", va="bottom",
                    fontsize=7.5)  # fmt: skip
        previous_right = x + width
        x = previous_right + 2.2
    ax.text(0, -1.0, "shapes per image; a batch adds N in front: (N, C, H, W) and (N, units)",
            fontsize=8.5, color="0.35")  # fmt: skip
    ax.set(xlim=(-0.3, x - 1.7), ylim=(-1.3, 6.9))
    ax.set_title("LeNet-5 (modern: ReLU, max pooling), 61,706 parameters", fontsize=11)
    return fig


def _node(ax, xy, text, color, round_=False):
    """A labelled box (or circle, for an operation) centred at xy."""
    if round_:
        ax.add_patch(Circle(xy, 0.42, facecolor=color, edgecolor="0.3"))
    else:
        ax.add_patch(
            Rectangle((xy[0] - 0.6, xy[1] - 0.35), 1.2, 0.7, facecolor=color, edgecolor="0.3")
        )
    ax.text(*xy, text, ha="center", va="center", fontsize=12)


def _flow(ax, start, end, color, bend=0.0):
    """An arrow from node to node, bent by `bend` (0: straight)."""
    ax.add_patch(
        FancyArrowPatch(
            start, end, arrowstyle="-|>", mutation_scale=13, color=color, lw=1.4,
            connectionstyle=f"arc3,rad={bend}", shrinkA=18, shrinkB=18,
        )
    )  # fmt: skip


def computational_graph():
    """Backpropagation through J = loss(XW + b) drawn as a graph.

    Black arrows carry values forward (left to right), labelled with their shapes; red arrows
    carry gradients backward, each node turning the gradient of its output into those of its
    inputs (notebook 3's three formulas).
    """
    fig, (ax,) = _canvas(11, 5.4)
    x, w, b = (0.0, 4.6), (0.0, 0.9), (6.0, -0.2)
    mul, add, loss, out = (3.0, 2.75), (6.0, 2.75), (9.0, 2.75), (11.3, 2.75)
    for xy, text in ((x, "$X$"), (w, "$W$"), (b, "$b$")):
        _node(ax, xy, text, _INPUT)
    _node(ax, mul, r"$\times$", _OUTPUT, round_=True)
    _node(ax, add, "$+$", _OUTPUT, round_=True)
    _node(ax, loss, "loss", _WINDOW)
    ax.text(*out, "$J$", ha="center", va="center", fontsize=14)
    black, red = "0.15", "C3"
    forward = [  # (from, to, label, label position)
        (x, mul, "$X$: (N, D)", (1.0, 3.3)),
        (w, mul, "$W$: (D, M)", (1.0, 2.1)),
        (mul, add, "$XW$: (N, M)", (4.5, 2.95)),
        (b, add, "$b$: (M,)", (5.45, 1.1)),
        (add, loss, "$Y$: (N, M)", (7.5, 2.95)),
        (loss, out, "a number", (10.3, 2.95)),
    ]
    backward = [  # (from, to, bend, label, label position)
        (loss, add, 0.5, r"$dY = \partial J/\partial Y$: (N, M)", (7.5, 3.95)),
        (add, mul, 0.5, "$dY$", (4.5, 3.75)),
        (add, b, -0.5, r"$db = \sum_n dY_{n,:}$", (7.6, 1.1)),
        (mul, x, 0.4, r"$dX = dY\,W^\top$: (N, D)", (2.2, 4.75)),
        (mul, w, -0.4, r"$dW = X^\top dY$: (D, M)", (2.2, 0.6)),
    ]
    for start, end, text, where in forward:
        _flow(ax, start, end, black)
        ax.text(*where, text, color=black, ha="center", va="bottom", fontsize=9.5)
    for start, end, bend, text, where in backward:
        _flow(ax, start, end, red, bend)
        ax.text(*where, text, color=red, ha="center", va="center", fontsize=10)
    ax.text(5.6, -1.2, "black: values, forward      red: gradients, backward (the chain rule, "
            "node by node)", ha="center", fontsize=9.5, color="0.3")  # fmt: skip
    ax.set(xlim=(-0.9, 11.8), ylim=(-1.5, 5.4))
    ax.set_title("Backpropagation on a graph: a linear layer and its loss", fontsize=11)
    return fig


def convolution_input_gradient(size=5, kernel_size=3, positions=((0, 0), (0, 1))):
    """dJ/dx of a convolution as a scatter: output (i, j) adds dy_ij · W back onto its window.

    Left, the upstream gradient dy with the chosen output positions marked; right, the input
    gradient dx, each cell listing the terms it receives from those positions (stride 1): where
    windows overlap, the terms add up.
    """
    out = size - kernel_size + 1
    colors = ["C0", "C3", "C2", "C1"]
    fig, (ax,) = _canvas(12, 5.2)
    dy_labels = [[f"$dy_{{{i}{j}}}$" for j in range(out)] for i in range(out)]
    y0 = (size - out) / 2
    _grid(ax, 0, y0, out, out, color=_OUTPUT, cell=1.3, labels=dy_labels)
    terms = {}
    for k, (i, j) in enumerate(positions):
        _outline(ax, 0, y0, out, i, j, 1, color=colors[k], fill=False, cell=1.3)
        for a in range(kernel_size):
            for d in range(kernel_size):
                terms.setdefault((i + a, j + d), []).append(f"$dy_{{{i}{j}}}W_{{{a}{d}}}$")
    x0, cell = out * 1.3 + 3.0, 1.6
    labels = [["\n+ ".join(terms.get((r, c), [])) for c in range(size)] for r in range(size)]
    _grid(ax, x0, 0, size, size, cell=cell)
    for (r, c), listed in terms.items():
        ax.text(x0 + (c + 0.5) * cell, (size - r - 0.5) * cell, labels[r][c], ha="center",
                va="center", fontsize=7.5 if len(listed) > 1 else 8.5)  # fmt: skip
    for k, (i, j) in enumerate(positions):
        _outline(ax, x0, 0, size, i, j, kernel_size, color=colors[k], fill=False, cell=cell)
        _flow(ax, (1.3 * (j + 0.5), y0 + 1.3 * (out - i)),
              (x0 + cell * j, cell * (size - i - kernel_size / 2)), colors[k], -0.3)  # fmt: skip
    ax.text(out * 0.65, y0 - 0.6, f"upstream gradient dy: {out}×{out}", ha="center", fontsize=9)
    ax.text(
        x0 + size * cell / 2, -0.6, f"input gradient dx: {size}×{size}", ha="center", fontsize=9
    )
    ax.set(xlim=(-0.3, x0 + size * cell + 0.3), ylim=(-1.0, size * cell + 0.3))
    ax.set_title(f"dx of a {kernel_size}×{kernel_size} convolution: each $dy_{{ij}}$ is scattered "
                 "back as $dy_{ij}\\,W$ onto its window; overlaps add up", fontsize=11)  # fmt: skip
    return fig


def _mse_grid(X, y, centre, half_widths, n=120):
    """mean((X @ w - y)^2) on an n x n grid of w around centre: (w1 grid, w2 grid, J)."""
    g1, g2 = np.meshgrid(
        np.linspace(centre[0] - half_widths[0], centre[0] + half_widths[0], n),
        np.linspace(centre[1] - half_widths[1], centre[1] + half_widths[1], n),
    )
    w = np.stack([g1.ravel(), g2.ravel()])  # (2, n*n)
    J = np.mean((X @ w - y[:, None]) ** 2, axis=0).reshape(g1.shape)
    return g1, g2, J


def loss_surface(x, y, w_range=(0.0, 6.0), b_range=(-200.0, 300.0)):
    """The loss J(w, b) = mean((w x + b - y)^2) of a line fit, as a surface and as contours.

    x, y: (N,) data. The least-squares (w, b) is marked: the bottom of the bowl.
    """
    X = np.column_stack([x, np.ones_like(x)])
    best = np.linalg.lstsq(X, y, rcond=None)[0]
    centre = ((w_range[0] + w_range[1]) / 2, (b_range[0] + b_range[1]) / 2)
    half = ((w_range[1] - w_range[0]) / 2, (b_range[1] - b_range[0]) / 2)
    gw, gb, J = _mse_grid(X, y, centre, half)
    fig = Figure(figsize=(11, 4.2))
    surface = fig.add_subplot(1, 2, 1, projection="3d")
    surface.plot_surface(gw, gb, np.log10(J), cmap="viridis", linewidth=0, alpha=0.9)
    surface.set(xlabel="$w$", ylabel="$b$", zlabel="$\\log_{10} J$", title="The surface J(w, b)")
    contours = fig.add_subplot(1, 2, 2)
    contours.contour(gw, gb, J, levels=np.geomspace(J.min() * 1.05, J.max(), 14), cmap="viridis")
    best_J = np.mean((X @ best - y) ** 2)
    contours.plot(
        *best, "*", ms=14, color="C3", label=f"lowest: w = {best[0]:.2f}, b = {best[1]:.0f}"
    )
    contours.set(xlabel="$w$", ylabel="$b$", title=f"Its contours; J = {best_J:.0f} at the bottom")
    contours.legend(loc="upper right", fontsize=9)
    fig.tight_layout()
    return fig


def _descent_path(X, y, lr, steps):
    """Gradient descent on mean((X w - y)^2) from w = 0: the (steps + 1, 2) path."""
    path = [np.zeros(X.shape[1])]
    for _ in range(steps):
        path.append(path[-1] - lr * 2 / len(X) * X.T @ (X @ path[-1] - y))
    return np.array(path)


def loss_bowls(X, y, steps=30):
    """The loss bowl of two raw (only centred) features against the same features standardised.

    X: (N, 2), y: (N,). Each panel: contours of J(w1, w2) (the intercept at its best value, the
    mean of y), the minimum, and `steps` steps of gradient descent from 0 at the learning rate
    1/λ_max, as large as the steepest direction allows (2/λ_max diverges). Equal axis scales,
    so the bowl's true shape shows.
    """
    centred = X - X.mean(axis=0)
    target = y - y.mean()
    fig, axes = _canvas(11, 4.8, columns=2)
    panels = [("raw (centred)", centred), ("standardised", centred / X.std(axis=0))]
    for ax, (name, features) in zip(axes, panels, strict=True):
        curvature = np.linalg.eigvalsh(2 / len(X) * features.T @ features)  # the bowl's axes
        best = np.linalg.lstsq(features, target, rcond=None)[0]
        path = _descent_path(features, target, 1 / curvature[-1], steps)
        half = 1.25 * max(np.abs(best).max(), 1e-12)
        g1, g2, J = _mse_grid(features, target, best, (half, half))
        levels = J.min() + (J.max() - J.min()) * np.geomspace(1e-4, 1, 16)
        ax.set_axis_on()
        ax.contour(g1, g2, J, levels=levels, cmap="Greys_r", linewidths=0.8)
        ax.plot(path[:, 0], path[:, 1], "o-", ms=2.5, lw=1, color="C3", label=f"{steps} steps")
        ax.plot(*best, "*", ms=12, color="C2", label="minimum")
        left = np.linalg.norm(path[-1] - best) / np.linalg.norm(best)
        ax.set_title(f"{name}: curvatures differ ×{curvature[-1] / curvature[0]:,.0f};\n"
                     f"after {steps} steps {left:.0%} of the way is left", fontsize=10)  # fmt: skip
        ax.set(xlabel="$w_1$", ylabel="$w_2$")
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("The same data, two loss bowls: gradient descent at the largest safe step",
                 fontsize=11)  # fmt: skip
    fig.subplots_adjust(top=0.8, wspace=0.3)
    return fig


def pooling_shift(image, shift=(0, 1), levels=2):
    """An image and a copy shifted by `shift` pixels (rows, columns), each max-pooled (2×2)
    `levels` times, with the difference at every level.

    image: (H, W). Each difference panel's title gives the change, sum|a - b| / sum|a|.
    """
    pool = MaxPool2d(2)
    ways = [("up", "down"), ("left", "right")]
    moved = " and ".join(
        f"{abs(k)} pixel{'s' if abs(k) > 1 else ''} {way[k > 0]}"
        for k, way in zip(shift, ways, strict=True)
        if k
    )
    rows = [image, np.roll(image, shift, axis=(0, 1))]
    stages = [[r] for r in rows]
    for _ in range(levels):
        for stage in stages:
            stage.append(pool.forward(stage[-1][None, None])[0, 0])
    fig = Figure(figsize=(3.2 * (levels + 1), 8.4))
    axes = fig.subplots(3, levels + 1)
    for level in range(levels + 1):
        a, b = stages[0][level], stages[1][level]
        size = f"{a.shape[0]}×{a.shape[1]}"
        name = "input" if level == 0 else f"after {level} max pool{'s' if level > 1 else ''}"
        change = np.abs(a - b).sum() / np.abs(a).sum()
        for row, (picture, title, cmap) in enumerate(
            [(a, f"{name} ({size})", "gray_r"), (b, f"shifted {moved}" if level == 0 else
             "shifted, then pooled", "gray_r"),
             (np.abs(a - b), f"difference: {change:.0%} changed", "Reds")]
        ):  # fmt: skip
            ax = axes[row, level]
            ax.imshow(picture, cmap=cmap, vmin=0, vmax=max(float(picture.max()), 1e-12))
            ax.set(title=title, xticks=[], yticks=[])
    fig.tight_layout()
    return fig
