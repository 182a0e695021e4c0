"""Pictures of data, training and models (matplotlib). Every plot_ and show_ function returns its
Figure; png_bytes and static_html turn a picture into what a widget or a static page shows."""

import base64
import html
import io
import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator, PercentFormatter

__all__ = [
    "plot_history",
    "plot_runs",
    "show_digits",
    "plot_confusion_matrix",
    "show_filters",
    "show_feature_maps",
    "plot_probabilities",
    "png_bytes",
    "static_html",
]


def plot_history(history, axes=None):
    """Loss and accuracy per epoch, training and (when measured) validation, side by side.

    history: a lenet.training.History (lists with one entry per epoch).
    axes: two matplotlib Axes to draw into (they are cleared); default a new figure.
    """
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    else:
        fig = axes[0].figure
        for ax in axes:
            ax.clear()
    loss_ax, acc_ax = axes
    epochs = history.epoch
    loss_ax.plot(epochs, history.train_loss, "o-", label="training")
    acc_ax.plot(epochs, np.array(history.train_acc) * 100, "o-", label="training")
    if not np.isnan(history.val_loss).all():
        loss_ax.plot(epochs, history.val_loss, "s-", label="validation")
        acc_ax.plot(epochs, np.array(history.val_acc) * 100, "s-", label="validation")
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss")
    acc_ax.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.legend()
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    return fig


def plot_runs(runs, epochs=1, fig=None):
    """Loss and accuracy of a few training runs on one picture, measured during the epochs.

    runs: oldest first, each a dict with "label" (e.g. "lr 0.05, batch 64"), optionally
    "color" (a run keeps its colour while newer runs come and go), "steps" — rows
    (epochs done, loss, accuracy) measured while training, where epochs done is fractional
    (1.5: half-way through the second epoch) and loss and accuracy are means over the steps
    since the previous row — and "history" (a lenet.training.History of the finished epochs, or
    None) for the validation points at whole epochs. The last run is drawn strongest.
    epochs: the x-axis shows at least 0 to this many epochs, with whole-number ticks.
    Accuracy is on a fixed 0-100% axis. fig: a matplotlib Figure to draw into (cleared), e.g.
    matplotlib.figure.Figure() when drawing off the main thread; default a new pyplot figure.
    """
    if fig is None:
        fig = plt.figure(figsize=(10, 3.6))
    else:
        fig.clear()
    loss_ax, acc_ax = fig.subplots(1, 2)
    top_loss, right = 2.5, max(1, epochs)
    for i, run in enumerate(runs):
        latest = i == len(runs) - 1
        style = {"color": run.get("color", f"C{i % 10}"), "alpha": 1.0 if latest else 0.45}
        width = 2.2 if latest else 1.3
        steps = np.asarray(run.get("steps") or np.empty((0, 3)), dtype=float).reshape(-1, 3)
        label = run["label"]
        if len(steps):
            loss_ax.plot(steps[:, 0], steps[:, 1], lw=width, label=label, **style)
            acc_ax.plot(steps[:, 0], steps[:, 2] * 100, lw=width, label=label, **style)
            finite = steps[np.isfinite(steps[:, 1]), 1]
            if finite.size:
                top_loss = max(top_loss, min(float(finite.max()) * 1.05, 10.0))
            right = max(right, math.ceil(steps[-1, 0] - 1e-9))
        history = run.get("history")
        if history is not None and len(history) and not np.isnan(history.val_acc).all():
            loss_ax.plot(history.epoch, history.val_loss, "s--", ms=6, lw=1, **style)
            acc_ax.plot(history.epoch, np.array(history.val_acc) * 100, "s--", ms=6, lw=1, **style)
            right = max(right, history.epoch[-1])
    loss_ax.set(ylim=(0, top_loss), ylabel="cross-entropy loss", title="Loss")
    acc_ax.set(ylim=(0, 100), ylabel="accuracy", title="Accuracy")
    acc_ax.yaxis.set_major_formatter(PercentFormatter(100, decimals=0))
    acc_ax.axhline(10, color="0.6", lw=0.8, ls=":")
    acc_ax.text(0.98 * right, 11.5, "chance (10%)", color="0.45", fontsize=8, ha="right")
    for ax in (loss_ax, acc_ax):
        ax.set(xlim=(0, right * 1.02), xlabel="epochs trained")  # room for the last marker
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    if runs:
        handles, labels = loss_ax.get_legend_handles_labels()
        note = "lines: training, while it runs; squares: validation after each epoch"
        if handles:
            loss_ax.legend(handles, labels, loc="upper right", fontsize=8)
        fig.text(0.5, 0.01, note, ha="center", fontsize=8, color="0.35")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def show_digits(images, labels, predictions=None, n=None, columns=10, title=None):
    """A grid of the first n digits (default all): images (N, 1, 28, 28), labels (N,).

    With predictions (N,), each digit is titled with its prediction; wrong ones in red,
    as "prediction (true label)".
    """
    n = len(images) if n is None else min(n, len(images))
    if n == 0:
        raise ValueError("show_digits: no images to show")
    columns = min(columns, n)
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 0.9, rows * 1.05), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
        if predictions is None:
            ax.set_title(str(labels[i]), fontsize=9)
        else:
            wrong = predictions[i] != labels[i]
            ax.set_title(
                f"{predictions[i]} (true {labels[i]})" if wrong else str(predictions[i]),
                fontsize=8,
                color="C3" if wrong else "black",
            )
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(cm, title="Confusion matrix"):
    """cm: (K, K) counts, rows = true class, columns = predicted class; non-zero counts written."""
    cm = np.asarray(cm)
    fig, ax = plt.subplots(figsize=(6, 5))
    im = ax.imshow(cm, cmap="Blues")
    k = len(cm)
    for i, j in np.argwhere(cm):  # zeros stay blank, so the mistakes stand out
        ax.text(
            j,
            i,
            cm[i, j],
            ha="center",
            va="center",
            fontsize=7,
            color="white" if cm[i, j] > cm.max() / 2 else "black",
        )
    ax.set(
        xticks=range(k),
        yticks=range(k),
        xlabel="predicted digit",
        ylabel="true digit",
        title=title,
    )
    fig.colorbar(im, ax=ax, label="number of test images")
    fig.tight_layout()
    return fig


def show_filters(conv, title="Learned kernels"):
    """The kernels of a Conv2d with one input channel, W (O, 1, K, K): one K x K panel each.

    One symmetric colour scale for all kernels: red positive, blue negative, white zero.
    """
    weights = conv.params["W"][:, 0]
    limit = np.abs(weights).max()
    fig, axes = plt.subplots(1, len(weights), figsize=(1.6 * len(weights), 1.9), squeeze=False)
    for o, ax in enumerate(axes[0]):
        ax.imshow(weights[o], cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"kernel {o}", fontsize=9)
        ax.axis("off")
    fig.suptitle(f"{title} (red positive, blue negative)")
    fig.tight_layout()
    return fig


def show_feature_maps(model, image, layer_index, title=None):
    """The output channels of model.layers[layer_index] for one image (1, 28, 28).

    The output (C, H', W') is drawn one panel per channel on one shared colour scale, so a
    channel that stays dark really is (nearly) zero.
    """
    x = image.reshape(1, *image.shape[-3:]).astype(model.dtype)
    for layer in model.layers[: layer_index + 1]:
        x = layer.forward(x)
    maps = x[0]
    columns = min(len(maps), 8)
    rows = -(-len(maps) // columns)
    low, high = float(maps.min()), float(maps.max())
    fig, axes = plt.subplots(
        rows, columns, figsize=(1.6 * columns + 1, 1.7 * rows + 0.3), squeeze=False
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(maps):
            im = ax.imshow(maps[i], cmap="viridis", vmin=low, vmax=high if high > low else low + 1)
            ax.set_title(f"channel {i}", fontsize=8)
    layer = model.layers[layer_index]
    fig.suptitle(title or f"Output of layer {layer_index} ({type(layer).__name__}), {maps.shape}")
    fig.tight_layout()
    fig.colorbar(im, ax=axes.ravel().tolist(), label="activation", shrink=0.8)
    return fig


def plot_probabilities(probs, digit=None, title="Probabilities", fig=None):
    """Bar chart of class probabilities (10,), with the 28 x 28 input beside it if given.

    The chart is titled "{title}: most likely {digit} ({p}%)"; the input "what the network
    reads". fig: a matplotlib Figure to draw into (cleared); default a new pyplot figure.
    """
    panels = 2 if digit is not None else 1
    if fig is None:
        fig = plt.figure(figsize=(3.2 * panels + 1, 2.8))
    else:
        fig.clear()
    axes = fig.subplots(1, panels, squeeze=False)
    if digit is not None:
        axes[0, 0].imshow(digit.reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
        axes[0, 0].set(title="what the network reads\n(28×28)", xticks=[], yticks=[])
    ax = axes[0, -1]
    best = int(np.argmax(probs))
    ax.bar(range(len(probs)), probs, color=["C3" if k == best else "C0" for k in range(len(probs))])
    ax.set(xticks=range(len(probs)), ylim=(0, 1), xlabel="digit", ylabel="probability")
    ax.set_title(f"{title}: most likely {best} ({probs[best]:.0%})")
    fig.tight_layout()
    return fig


def png_bytes(fig, dpi=100):
    """A Figure as PNG bytes (a matplotlib.figure.Figure needs no pyplot: any thread)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def static_html(line, png=None, alt=""):
    """The stand-in for a widget where no kernel runs: one line, and a PNG picture if any."""
    text = f'<p class="lenet-static">{html.escape(line)}</p>'
    if png:
        source = base64.b64encode(png).decode("ascii")
        text += f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{source}">'
    return text
