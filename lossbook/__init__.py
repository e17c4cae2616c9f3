"""lossbook: loss functions and the optimizers that minimize them, for reading and for running.

Notebooks write ``import lossbook as lb``.  The modules, one per concept:

- :mod:`lossbook.losses`: every loss in the book, with Keras's names and numbers and exact gradients;
- :mod:`lossbook.optim`: optimizers composed from small pure transforms, matching ``torch.optim``;
  schedules in :mod:`lossbook.optim.schedules`; :func:`lossbook.optim.run` for trajectories;
- :mod:`lossbook.surfaces`: two-dimensional test surfaces and the loss surfaces of datasets;
- :mod:`lossbook.nn`: a small dense network with backpropagation written out and a Keras-like ``fit``;
- :mod:`lossbook.explore`: explorers, figures with sliders that work live and on the static website;
- :mod:`lossbook.plotting`: the book's matplotlib style;
- :mod:`lossbook.data`: small seeded datasets;
- :mod:`lossbook.params`: tunable numbers with domains and slider ranges;
- :mod:`lossbook.testing`: gradient checks by finite differences.
"""
from . import data, losses, params, testing
from .params import Interval, Param
from .testing import check_gradient, numerical_gradient

from . import optim, surfaces
from . import nn

from . import explore, plotting
from .explore import Explorer, TrajectoryArtist, fit_over_data, loss_curves, loss_vs_step, surface_trajectories
from .plotting import PALETTE, use_style

__version__ = "0.1.0"

__all__ = [
    "Explorer",
    "Interval",
    "PALETTE",
    "Param",
    "TrajectoryArtist",
    "check_gradient",
    "data",
    "explore",
    "fit_over_data",
    "loss_curves",
    "loss_vs_step",
    "losses",
    "nn",
    "numerical_gradient",
    "optim",
    "params",
    "plotting",
    "surface_trajectories",
    "surfaces",
    "testing",
    "use_style",
]
