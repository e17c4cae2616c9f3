r"""A small dense network in numpy, written to be read: Keras's ``Sequential`` and ``Dense``, by hand.

>>> import lossbook as lb
>>> model = lb.nn.Sequential([lb.nn.Dense(64, "relu"), lb.nn.Dense(10, "softmax")], input_dim=64, seed=0)
>>> history = lb.nn.fit(model, x, y, loss="categorical_crossentropy", optimizer=lb.optim.adam(1e-3),
...                     epochs=20, batch_size=32, validation_data=(x_val, y_val))   # doctest: +SKIP
>>> history.history["val_loss"]                                                     # doctest: +SKIP

A layer computes :math:`z = a_{\text{prev}} W + b` and :math:`a = \phi(z)`, one row per example.
The parameters of a :class:`Sequential` live in **one flat vector**; ``model.params`` is the
list of ``(W, b)`` pairs as *views* into it.  So an optimizer of :mod:`lossbook.optim` (which
acts on 1-D arrays) steps the whole network at once, and a loss-landscape plot can move along
any direction of that vector:

- :meth:`Sequential.get_flat`, :meth:`Sequential.set_flat`: the vector;
- :meth:`Sequential.unflatten`: any vector of that length (a gradient, a direction) seen as ``(W, b)`` pairs;
- :meth:`Sequential.forward` caches what :meth:`Sequential.backward` needs; backward is backpropagation
  written out line by line;
- :meth:`Sequential.loss_and_grad` and :meth:`Sequential.input_grad` take any lossbook loss;
- :func:`fit` is Keras's ``Model.fit``: seeded minibatches, an optimizer, a :class:`History`.

**The output layer and the cross-entropy.**  When the last layer is ``"softmax"`` and the loss is
:class:`~lossbook.losses.CategoricalCrossentropy` (or the sparse one) on probabilities, or the
last layer is ``"sigmoid"`` and the loss is :class:`~lossbook.losses.BinaryCrossentropy`,
the loss is computed from the *logits* :math:`z` of the last layer (``fused=True``, the default).
This is what Keras does on its TensorFlow backend (its JAX and PyTorch backends clip the
probabilities instead).  The gradient with respect to the logits is then exactly

.. math::
    \frac{\partial L}{\partial z} = \frac{1}{N}\,(p - y), \qquad p = \operatorname{softmax}(z),

however confident and wrong the network is.  Through the clipped probabilities
(``fused=False``) the chain rule gives the same :math:`p - y` only while every probability that
matters stays inside :math:`[10^{-7}, 1 - 10^{-7}]`; outside, the clip's derivative is zero and
the example stops teaching the network.  The alternative with the same numbers is a
``"linear"`` last layer and ``from_logits=True``, PyTorch's convention
(``nn.Linear`` + ``nn.CrossEntropyLoss``).
"""
from __future__ import annotations

import contextlib
import copy
import math
from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence

import numpy as np

from .losses import BinaryCrossentropy, CategoricalCrossentropy, Loss, SparseCategoricalCrossentropy
from .losses import get as get_loss
from .losses._base import log_softmax, sigmoid
from .optim.transforms import GradientTransformation
from .params import Interval, check_scalar

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "Dense",
    "EarlyStopping",
    "History",
    "Objective",
    "Sequential",
    "fit",
    "glorot_uniform",
]


# ---------------------------------------------------------------------------
# Activations as data: the function and how a gradient passes back through it
# ---------------------------------------------------------------------------


class Activation(NamedTuple):
    r"""An activation :math:`a = \phi(z)` and its backward rule ``backward(z, a, da) -> dz``.

    ``backward`` is the vector-Jacobian product: given :math:`\partial L/\partial a` it returns
    :math:`\partial L/\partial z`.  For the elementwise activations that is
    :math:`\partial L/\partial a \odot \phi'(z)`; softmax couples a row.
    """

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    latex: str


def _softmax(z: np.ndarray) -> np.ndarray:
    return np.exp(log_softmax(z))


def _softmax_backward(z, a, da):
    # Jacobian of softmax: d a_j / d z_k = a_j (delta_jk - a_k), so dz_k = a_k (da_k - sum_j da_j a_j)
    return a * (da - np.sum(da * a, axis=-1, keepdims=True))


#: The activations a :class:`Dense` layer accepts, by Keras's names.
ACTIVATIONS: dict[str, Activation] = {
    "linear": Activation("linear", lambda z: z, lambda z, a, da: da, r"z"),
    "relu": Activation("relu", lambda z: np.maximum(z, 0.0), lambda z, a, da: da * (z > 0), r"\max(0, z)"),
    "tanh": Activation("tanh", np.tanh, lambda z, a, da: da * (1.0 - a * a), r"\tanh z"),
    "sigmoid": Activation("sigmoid", sigmoid, lambda z, a, da: da * a * (1.0 - a), r"1 / (1 + e^{-z})"),
    "softmax": Activation("softmax", _softmax, _softmax_backward, r"e^{z_j} / \sum_k e^{z_k}"),
}

# The losses whose probability form is computed from the logits of the matching output activation.
_FUSABLE = {
    CategoricalCrossentropy: "softmax",
    SparseCategoricalCrossentropy: "softmax",
    BinaryCrossentropy: "sigmoid",
}

_POSITIVE_INT = Interval(1, math.inf)


# ---------------------------------------------------------------------------
# Layers and the model
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Dense:
    r"""A fully connected layer: :math:`a = \phi(a_{\text{prev}} W + b)`, ``units`` outputs.

    ``activation`` is one of :data:`ACTIVATIONS` (``None`` means ``"linear"``, as in Keras).
    A layer is a description; its weights live in the :class:`Sequential` that holds it.
    """

    units: int
    activation: str = "linear"

    def __post_init__(self) -> None:
        object.__setattr__(self, "units", int(check_scalar("units", self.units, _POSITIVE_INT, integer=True)))
        act = "linear" if self.activation is None else self.activation
        if act not in ACTIVATIONS:
            raise ValueError(f"unknown activation {act!r}; choose one of {', '.join(map(repr, ACTIVATIONS))}")
        object.__setattr__(self, "activation", act)

    def __repr__(self) -> str:
        return f"Dense({self.units}, activation={self.activation!r})"


def glorot_uniform(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    r"""Keras's default kernel initializer: :math:`W_{ij} \sim U(-l, l)`, :math:`l = \sqrt{6 / (n_{in} + n_{out})}`.

    The limit keeps the variance of the activations and of the gradients roughly equal
    from layer to layer (Glorot and Bengio, 2010).  Same distribution as Keras; the random
    numbers themselves come from numpy's generator, so they differ from Keras's.
    """
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


class Sequential:
    r"""Dense layers applied one after the other, like ``keras.Sequential``.

    Parameters
    ----------
    layers
        The :class:`Dense` layers, input side first.
    input_dim
        The number of features of one example (Keras's ``input_shape=(input_dim,)``).
    seed
        Seeds the initial weights: kernels by :func:`glorot_uniform` (Keras's default for
        ``Dense``), layer by layer from one ``numpy.random.default_rng(seed)``; biases zero.

    ``params`` is the list of ``(W, b)`` pairs, ``W`` of shape ``(fan_in, units)``; they are views
    into one flat vector of length ``n_params`` (see :meth:`get_flat`).
    """

    def __init__(self, layers: Sequence[Dense], input_dim: int, seed: int = 0) -> None:
        layers = list(layers)
        if not layers:
            raise ValueError("a Sequential model needs at least one Dense layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Dense):
                raise TypeError(f"layer {i} must be a Dense layer, got {layer!r} of type {type(layer).__name__}")
        self.layers: tuple[Dense, ...] = tuple(layers)
        self.input_dim = int(check_scalar("input_dim", input_dim, _POSITIVE_INT, integer=True))
        self.seed = seed
        sizes = [self.input_dim] + [layer.units for layer in self.layers]
        self.shapes: tuple[tuple[int, int], ...] = tuple(zip(sizes[:-1], sizes[1:]))
        self.n_params = sum(n_in * n_out + n_out for n_in, n_out in self.shapes)
        self._flat = np.zeros(self.n_params)
        self.params: list[tuple[np.ndarray, np.ndarray]] = self.unflatten(self._flat)
        rng = np.random.default_rng(seed)
        for (W, b), (n_in, n_out) in zip(self.params, self.shapes):
            W[...] = glorot_uniform(n_in, n_out, rng)
        self._cache: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None

    # -- description -----------------------------------------------------------

    @property
    def output_dim(self) -> int:
        """The number of outputs of the last layer."""
        return self.layers[-1].units

    @property
    def output_activation(self) -> str:
        """The activation of the last layer."""
        return self.layers[-1].activation

    def __repr__(self) -> str:
        inner = ", ".join(map(repr, self.layers))
        return f"Sequential([{inner}], input_dim={self.input_dim}, n_params={self.n_params})"

    def summary(self) -> str:
        """A table of the layers, their output shapes and parameter counts, like Keras's ``model.summary()``."""
        rows = [("layer", "output shape", "params")]
        for i, (layer, (n_in, n_out)) in enumerate(zip(self.layers, self.shapes)):
            rows.append((f"dense_{i} ({layer.activation})", f"(None, {n_out})", f"{n_in * n_out + n_out:,}"))
        widths = [max(len(r[k]) for r in rows) for k in range(3)]
        line = "-" * (sum(widths) + 6)
        text = [line]
        for j, r in enumerate(rows):
            text.append(f"{r[0]:<{widths[0]}}   {r[1]:<{widths[1]}}   {r[2]:>{widths[2]}}")
            if j == 0:
                text.append(line)
        text += [line, f"total params: {self.n_params:,}"]
        return "\n".join(text)

    # -- the flat vector ----------------------------------------------------------

    def unflatten(self, vector) -> list[tuple[np.ndarray, np.ndarray]]:
        """``vector`` (length ``n_params``) as a list of ``(W, b)`` pairs: views, no copies, when it is an array."""
        v = np.asarray(vector, dtype=np.float64)
        if v.shape != (self.n_params,):
            raise ValueError(f"expected a vector of shape ({self.n_params},) for this model, got shape {v.shape}")
        pairs, start = [], 0
        for n_in, n_out in self.shapes:
            W = v[start:start + n_in * n_out].reshape(n_in, n_out)
            start += n_in * n_out
            b = v[start:start + n_out]
            start += n_out
            pairs.append((W, b))
        return pairs

    def flatten(self, pairs: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """The inverse of :meth:`unflatten`: ``(W, b)`` pairs of this model's shapes as one new vector."""
        pairs = list(pairs)
        if len(pairs) != len(self.shapes):
            raise ValueError(f"expected {len(self.shapes)} (W, b) pairs, got {len(pairs)}")
        parts = []
        for i, ((W, b), (n_in, n_out)) in enumerate(zip(pairs, self.shapes)):
            W, b = np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)
            if W.shape != (n_in, n_out) or b.shape != (n_out,):
                raise ValueError(
                    f"layer {i} needs W of shape {(n_in, n_out)} and b of shape {(n_out,)}, got {W.shape} and {b.shape}"
                )
            parts += [W.ravel(), b]
        return np.concatenate(parts)

    def get_flat(self) -> np.ndarray:
        """A copy of all parameters as one vector: ``W1`` row by row, ``b1``, ``W2``, ``b2``, ..."""
        return self._flat.copy()

    def set_flat(self, vector) -> None:
        """Overwrite all parameters with ``vector``, copied in: ``params`` keeps pointing at the model's own storage."""
        v = np.asarray(vector, dtype=np.float64)
        if v.shape != (self.n_params,):
            raise ValueError(f"expected a vector of shape ({self.n_params},) for this model, got shape {v.shape}")
        self._flat[...] = v
        self._cache = None

    def copy(self) -> "Sequential":
        """An independent model with the same layers and the same current weights."""
        other = copy.copy(self)
        other._flat = self._flat.copy()
        other.params = other.unflatten(other._flat)
        other._cache = None
        return other

    # -- forward and backward ----------------------------------------------------

    def _check_x(self, x) -> np.ndarray:
        try:
            x = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ValueError(f"x must be an array of real numbers: {err}") from None
        if x.ndim != 2 or x.shape[1] != self.input_dim:
            hint = " (one example? use x[None, :])" if x.ndim == 1 else ""
            raise ValueError(
                f"x must have shape (n_examples, {self.input_dim}) for this model, got shape {x.shape}{hint}"
            )
        if x.shape[0] == 0:
            raise ValueError(f"x holds no examples (shape {x.shape})")
        if not np.all(np.isfinite(x)):
            raise ValueError("x must be finite")
        return x

    def forward(self, x) -> np.ndarray:
        r"""The network's output for each row of ``x``.

        Keeps the input :math:`a_{\text{prev}}`, :math:`z` and :math:`a` of every layer for :meth:`backward`.
        """
        a = self._check_x(x)
        cache = []
        for (W, b), layer in zip(self.params, self.layers):
            z = a @ W + b                                   # pre-activation, shape (n, units)
            a_next = ACTIVATIONS[layer.activation].forward(z)  # activation, same shape
            cache.append((a, z, a_next))                    # the layer's input, z and output
            a = a_next
        self._cache = cache
        return a

    def predict(self, x) -> np.ndarray:
        """The output for each row of ``x`` (probabilities after a softmax or sigmoid layer), as a new array."""
        return self.forward(x).copy()

    def logits(self, x) -> np.ndarray:
        r"""The last layer's pre-activation :math:`z` for each row of ``x`` (before its softmax or sigmoid)."""
        self.forward(x)
        return self._cache[-1][1].copy()

    def _backprop(self, grad: np.ndarray, *, at_logits: bool, need_input: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Backpropagation from the gradient at the output (or at the last logits) down to the first layer."""
        if self._cache is None:
            raise ValueError("call forward(x) before backward: backpropagation needs the cached activations")
        grads = np.zeros(self.n_params)                  # one flat gradient, laid out like the parameters
        pairs = self.unflatten(grads)                     # (dW, db) views into it, layer by layer
        delta = np.asarray(grad, dtype=np.float64)        # dL/d(output of the current layer)
        last = len(self.layers) - 1
        for i in range(last, -1, -1):                     # from the output layer down to the first
            a_prev, z, a = self._cache[i]                 # this layer's input, pre-activation and output
            W, _ = self.params[i]
            dW, db = pairs[i]
            if i == last and at_logits:
                dz = delta                                # the loss gave dL/dz directly (fused cross-entropy)
            else:
                dz = ACTIVATIONS[self.layers[i].activation].backward(z, a, delta)  # dL/dz = dL/da through phi
            dW[...] = a_prev.T @ dz                       # dL/dW = a_prev^T dz: sums over the examples
            db[...] = dz.sum(axis=0)                      # dL/db = sum over the examples of dz
            if i > 0 or need_input:
                delta = dz @ W.T                          # dL/d(a_prev): what the layer below receives
        return grads, (delta if need_input else None)

    def backward(self, grad_out) -> np.ndarray:
        r"""Gradients of all parameters, as one flat vector, given :math:`\partial L/\partial a_{\text{out}}`.

        ``grad_out`` has the shape of the last :meth:`forward` output.  ``unflatten`` the result
        to read ``[(dW1, db1), (dW2, db2), ...]``.
        """
        if self._cache is None:
            raise ValueError("call forward(x) before backward: backpropagation needs the cached activations")
        grad_out = np.asarray(grad_out, dtype=np.float64)
        want = self._cache[-1][2].shape
        if grad_out.shape != want:
            raise ValueError(f"grad_out must have the shape of the last output, {want}, got {grad_out.shape}")
        return self._backprop(grad_out, at_logits=False, need_input=False)[0]

    # -- losses ---------------------------------------------------------------------

    def fuses(self, loss: Loss) -> bool:
        """Whether :meth:`loss_and_grad` takes ``loss`` from the logits (see the module docstring)."""
        act = _FUSABLE.get(type(loss))
        return act is not None and act == self.output_activation and not loss.from_logits

    def _loss_at_output(self, y, loss: Loss, fused: bool) -> tuple[float, np.ndarray, bool]:
        """Loss value and its gradient at the output (``at_logits=False``) or at the last logits (``True``)."""
        _, z, out = self._cache[-1]
        if not (np.all(np.isfinite(z)) and np.all(np.isfinite(out))):
            raise FloatingPointError("the network's output is not finite: the weights have blown up")
        if fused and self.fuses(loss):
            on_logits = copy.copy(loss)
            on_logits.from_logits = True
            value, grad = on_logits.value_and_grad(y, z)
            return value, grad, True
        value, grad = loss.value_and_grad(y, out)
        return value, grad, False

    def _penalty(self, l2: float) -> float:
        return l2 * sum(float(np.sum(W * W)) for W, _ in self.params) if l2 else 0.0

    def loss_and_grad(self, x, y, loss, *, l2: float = 0.0, fused: bool = True) -> tuple[float, np.ndarray]:
        r"""The loss of the model on ``(x, y)`` and its gradient with respect to every parameter (flat).

        ``loss`` is a lossbook loss or a Keras name; its value is ``loss(y, model(x))`` (the mean
        over the examples by default).  ``l2`` adds :math:`\lambda \sum \|W\|^2` over the kernels, not
        the biases: Keras's ``kernel_regularizer=l2(λ)``, whose gradient is :math:`2\lambda W`.
        With ``fused`` (default) a softmax or sigmoid output with its cross-entropy is evaluated
        from the logits.  A FloatingPointError says the output itself is not finite (weights that blew up).
        """
        loss = _as_loss(loss)
        l2 = check_scalar("l2", l2, Interval(0.0, math.inf))
        self.forward(x)
        value, grad, at_logits = self._loss_at_output(y, loss, fused)
        grads, _ = self._backprop(grad, at_logits=at_logits, need_input=False)
        if l2:
            for (W, _), (dW, _) in zip(self.params, self.unflatten(grads)):
                dW += 2.0 * l2 * W
            value += self._penalty(l2)
        return value, grads

    def input_grad(self, x, y, loss, *, fused: bool = True) -> np.ndarray:
        r""":math:`\partial L/\partial x`, the gradient of the (reduced) loss with respect to the inputs (shape of x).

        With the default mean over ``N`` examples, row ``i`` is :math:`1/N` times the gradient of
        example ``i``'s own loss; its sign (what the fast gradient sign method uses) is the same.
        """
        loss = _as_loss(loss)
        self.forward(x)
        _, grad, at_logits = self._loss_at_output(y, loss, fused)
        return self._backprop(grad, at_logits=at_logits, need_input=True)[1]

    def evaluate(self, x, y, loss, *, l2: float = 0.0, fused: bool = True) -> dict[str, float]:
        """``{"loss": ..., "accuracy": ...}`` on ``(x, y)`` (accuracy only for classification losses), like Keras."""
        loss = _as_loss(loss)
        l2 = check_scalar("l2", l2, Interval(0.0, math.inf))
        out = self.forward(x)
        value = self._loss_at_output(y, loss, fused)[0] + self._penalty(l2)
        result = {"loss": value}
        correct = _correct(self, loss, y, out)
        if correct is not None:
            result["accuracy"] = float(np.mean(correct))
        return result

    def objective(self, x, y, loss, *, l2: float = 0.0, fused: bool = True) -> "Objective":
        """The full-batch loss as a function of the flat parameters, for :func:`lossbook.optim.run` and landscapes."""
        return Objective(self.copy(), x, y, _as_loss(loss), l2, fused)


class Objective:
    r"""The loss of a network on a dataset as a function of its flat parameters :math:`\theta`.

    ``value(theta)`` and ``grad(theta)`` work on a private copy of the model, so the model that
    made the objective is never changed.  ``dim`` is the number of parameters.
    """

    def __init__(self, model: Sequential, x, y, loss: Loss, l2: float, fused: bool) -> None:
        self.model, self.loss, self.l2, self.fused = model, loss, l2, fused
        self.x = model._check_x(x)
        self.y = np.asarray(y, dtype=np.float64)
        self.dim = model.n_params

    def value(self, theta) -> float:
        """The loss at the parameters ``theta``; ``theta`` may carry leading axes, giving an array of values."""
        theta = np.asarray(theta, dtype=np.float64)
        if theta.ndim > 1:
            return np.array([self.value(t) for t in theta.reshape(-1, self.dim)]).reshape(theta.shape[:-1])
        self.model.set_flat(theta)
        return self.model.evaluate(self.x, self.y, self.loss, l2=self.l2, fused=self.fused)["loss"]

    def grad(self, theta) -> np.ndarray:
        """The gradient of the loss with respect to the flat parameters at ``theta``."""
        self.model.set_flat(theta)
        return self.model.loss_and_grad(self.x, self.y, self.loss, l2=self.l2, fused=self.fused)[1]


def _as_loss(loss) -> Loss:
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str):
        return get_loss(loss)
    raise TypeError(f"loss must be a lossbook loss or a Keras name such as 'categorical_crossentropy', got {loss!r}")


def _correct(model: Sequential, loss: Loss, y, out: np.ndarray) -> np.ndarray | None:
    """Which examples the model classifies correctly, or None when the loss is not a classification loss.

    Several outputs: the arg-max against the one-hot (or integer) target.  One output: the sign of
    the margin for {-1, 1} labels, else the probability against 0.5 (the logit against 0 when the
    last layer is linear and the loss takes logits).
    """
    if loss.y_true_kind not in ("probability", "sign", "index") and not loss.sparse:
        return None
    y = np.asarray(y, dtype=np.float64)
    if out.shape[-1] > 1:
        pred = np.argmax(out, axis=-1)
        true = y.reshape(out.shape[:-1]) if loss.sparse else np.argmax(y.reshape(out.shape), axis=-1)
        return pred == true
    out, y = out.reshape(-1), y.reshape(-1)
    if loss.y_true_kind == "sign":
        return (out > 0) == (y > 0)
    threshold = 0.0 if (getattr(loss, "from_logits", False) and model.output_activation == "linear") else 0.5
    return (out > threshold) == (y > 0.5)


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


def _one_blas_thread():
    """A context in which BLAS uses one thread, when threadpoolctl (a scikit-learn dependency) is installed.

    The matrices of these networks are small: splitting a product over threads gains little and,
    on a busy machine, waiting for a descheduled thread can make a step a hundred times slower.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - numpy alone still works, with its default threads
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


@dataclass
class EarlyStopping:
    """Stop :func:`fit` when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs (Keras's callback).

    Losses must fall, accuracies rise; ``patience=0`` stops at the first epoch without improvement.
    With ``restore_best_weights`` the model ends at the weights of its best epoch (Keras's default is
    False: the last weights).
    """

    monitor: str = "val_loss"
    patience: int = 5
    min_delta: float = 0.0
    restore_best_weights: bool = False

    def __post_init__(self) -> None:
        if self.monitor not in ("loss", "val_loss", "accuracy", "val_accuracy"):
            raise ValueError(f"monitor must be 'loss', 'val_loss', 'accuracy' or 'val_accuracy', got {self.monitor!r}")
        self.patience = int(check_scalar("patience", self.patience, Interval(0, math.inf), integer=True))
        self.min_delta = check_scalar("min_delta", self.min_delta, Interval(0.0, math.inf))

    def improved(self, value: float, best: float) -> bool:
        if self.monitor.endswith("accuracy"):
            return value > best + self.min_delta
        return value < best - self.min_delta


@dataclass
class History:
    """What :func:`fit` returns, as Keras's ``History``: ``history[key]`` holds one number per epoch.

    Keys ``"loss"`` and ``"accuracy"`` are Keras's training numbers: the averages over the
    epoch's minibatches, each computed *before* that minibatch's update (so they mix the
    weights of the whole epoch); ``"val_loss"`` and ``"val_accuracy"`` use the weights at the
    end of the epoch.  Accuracy keys appear for classification losses, ``val_`` keys with
    ``validation_data``.

    ``step_loss`` is the loss of every minibatch in order; ``trajectory`` (with
    ``record_params=True``) the flat parameters before the first step and after every step,
    shape ``(steps + 1, n_params)``.  ``diverged`` says training stopped because the parameters
    or the loss stopped being finite; ``stopped_epoch`` is the epoch at which early stopping
    ended training (None if it did not) and ``best_epoch`` the epoch it judged best.
    """

    history: dict[str, list[float]]
    epoch: list[int]
    steps_per_epoch: int
    step_loss: np.ndarray
    trajectory: np.ndarray | None = None
    diverged: bool = False
    stopped_epoch: int | None = None
    best_epoch: int | None = None

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        status = ", diverged" if self.diverged else ""
        return f"History(epochs={len(self.epoch)}, {last}{status})"


def fit(
    model: Sequential,
    x,
    y,
    *,
    loss,
    optimizer: GradientTransformation,
    epochs: int = 10,
    batch_size: int = 32,
    seed: int = 0,
    validation_data: tuple | None = None,
    l2: float = 0.0,
    shuffle: bool = True,
    early_stopping: EarlyStopping | None = None,
    record_params: bool = False,
    fused: bool = True,
) -> History:
    r"""Train ``model`` in place with minibatches, like Keras's ``model.fit``; returns a :class:`History`.

    Each epoch visits the examples in a fresh order drawn from ``numpy.random.default_rng(seed)``
    (``shuffle=False`` keeps the given order) in batches of ``batch_size``, the last one
    possibly smaller.  Each step is, with :math:`g` the gradient of the batch loss,

    .. math::
        u, s \leftarrow \text{optimizer.update}(g, s, \theta), \qquad \theta \leftarrow \theta + u.

    ``loss`` is a lossbook loss or a Keras name; ``optimizer`` an :mod:`lossbook.optim` optimizer
    (state initialised here, so a fresh run each call); ``l2`` Keras's kernel regularizer (see
    :meth:`Sequential.loss_and_grad`), included in the reported losses as Keras does.
    BLAS runs on one thread during training when threadpoolctl is installed (the products are small).
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a lossbook.nn.Sequential, got {type(model).__name__}")
    if not isinstance(optimizer, GradientTransformation):
        raise TypeError(
            f"optimizer must be a lossbook.optim optimizer (e.g. lb.optim.adam(1e-3)), got {type(optimizer).__name__}"
        )
    loss = _as_loss(loss)
    epochs = int(check_scalar("epochs", epochs, Interval(0, math.inf), integer=True))
    batch_size = int(check_scalar("batch_size", batch_size, _POSITIVE_INT, integer=True))
    l2 = check_scalar("l2", l2, Interval(0.0, math.inf))
    if early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
        raise TypeError(f"early_stopping must be an EarlyStopping, got {type(early_stopping).__name__}")
    x = model._check_x(x)
    y = np.asarray(y, dtype=np.float64)
    n = x.shape[0]
    if y.ndim == 0 or y.shape[0] != n:
        raise ValueError(f"x has {n} examples but y has shape {y.shape}: they need the same first axis")
    if validation_data is not None:
        if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
            raise ValueError("validation_data must be a pair (x_val, y_val)")
        x_val = model._check_x(validation_data[0])
        y_val = np.asarray(validation_data[1], dtype=np.float64)
        if y_val.ndim == 0 or y_val.shape[0] != x_val.shape[0]:
            raise ValueError(
                f"validation x has {x_val.shape[0]} examples but validation y has shape {y_val.shape}"
            )
    if early_stopping is not None and early_stopping.monitor.startswith("val_") and validation_data is None:
        raise ValueError(f"early stopping on {early_stopping.monitor!r} needs validation_data")

    rng = np.random.default_rng(seed)
    steps_per_epoch = -(-n // batch_size)
    theta = model.get_flat()
    state = optimizer.init(theta)
    classify = loss.y_true_kind in ("probability", "sign", "index") or loss.sparse
    keys = ["loss"] + (["accuracy"] if classify else [])
    if validation_data is not None:
        keys += ["val_" + k for k in keys]
    history: dict[str, list[float]] = {k: [] for k in keys}
    step_losses: list[float] = []
    trajectory = np.empty((epochs * steps_per_epoch + 1, model.n_params)) if record_params else None
    if record_params:
        trajectory[0] = theta
    best, best_epoch, best_theta, wait = None, None, None, 0
    stopped, diverged, done_epochs = None, False, []

    with np.errstate(over="ignore", invalid="ignore"), _one_blas_thread():
        for epoch in range(epochs):
            order = rng.permutation(n) if shuffle else np.arange(n)
            total, n_correct = 0.0, 0
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                try:
                    value, grads = model.loss_and_grad(x[idx], y[idx], loss, l2=l2, fused=fused)
                except FloatingPointError:  # the output overflowed
                    diverged = True
                    break
                if classify:
                    n_correct += int(np.sum(_correct(model, loss, y[idx], model._cache[-1][2])))
                updates, state = optimizer.update(grads, state, theta)
                theta = theta + updates  # the step
                if not (math.isfinite(value) and np.all(np.isfinite(theta))):
                    diverged = True
                    break
                model.set_flat(theta)
                step_losses.append(value)
                total += value * len(idx)
                if record_params:
                    trajectory[len(step_losses)] = theta
            if diverged:
                break
            history["loss"].append(total / n)
            if classify:
                history["accuracy"].append(n_correct / n)
            if validation_data is not None:
                try:
                    scores = model.evaluate(x_val, y_val, loss, l2=l2, fused=fused)
                except FloatingPointError:
                    diverged = True
                    break
                for k, v in scores.items():
                    history["val_" + k].append(v)
            done_epochs.append(epoch)
            if early_stopping is not None:
                current = history[early_stopping.monitor][-1]
                if best is None or early_stopping.improved(current, best):
                    best, best_epoch, best_theta, wait = current, epoch, theta.copy(), 0
                else:
                    wait += 1
                    if wait >= early_stopping.patience:
                        stopped = epoch
                        break
    if diverged:  # keep the epochs that finished, so every list in history has the same length
        for values in history.values():
            del values[len(done_epochs):]
    if early_stopping is not None and early_stopping.restore_best_weights and best_theta is not None:
        model.set_flat(best_theta)
    if record_params:
        trajectory = trajectory[: len(step_losses) + 1]
    return History(history, done_epochs, steps_per_epoch, np.array(step_losses), trajectory,
                   diverged, stopped, best_epoch)
