"""Every exercise, by number: the exercise modules of each notebook gathered in one table.

A new notebook's exercises go in a module nbNN_name.py beside this one (a tuple EXERCISES of
Exercise) and its name into MODULES below.
"""

import importlib

__all__ = ["EXERCISES", "MODULES", "exercise", "in_notebook"]

MODULES = tuple(
    importlib.import_module(f"lenet.teaching.exercises.{name}")
    for name in (
        "nb01_linear_regression",
        "nb02_gradient_descent",
        "nb03_backprop_linear_layer",
        "nb04_activations",
        "nb05_convolution",
        "nb06_pooling",
        "nb07_softmax_cross_entropy",
        "nb08_optimizers_and_initialization",
        "nb09_lenet5_mnist",
        "nb11_lenet5_1998",
    )
)

EXERCISES = {ex.number: ex for module in MODULES for ex in module.EXERCISES}


def exercise(number):
    """The Exercise numbered "5.2" (a ValueError naming the known numbers if there is none)."""
    try:
        return EXERCISES[str(number)]
    except KeyError:
        raise ValueError(f"no exercise {number!r}; there are: {', '.join(EXERCISES)}") from None


def in_notebook(notebook):
    """The exercises of notebook 5 (5, "5" or "05"), in order."""
    prefix = f"{int(notebook)}."
    return [ex for number, ex in EXERCISES.items() if number.startswith(prefix)]
