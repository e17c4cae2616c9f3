"""Explorers: figures with sliders that answer instantly in a notebook and still work on the static website.

- :mod:`lossbook.explore.core`: :class:`Explorer`, a figure drawn once plus an update that moves artists in place;
- :mod:`lossbook.explore.static`: the kernel-free HTML version, precomputed over a grid of slider values;
- :mod:`lossbook.explore.kinds`: ready-made explorers (loss curves, surfaces with trajectories, loss against
  step, a fit over data) and :class:`TrajectoryArtist`, which shows divergence.
"""
from .core import Explorer
from .kinds import TrajectoryArtist, fit_over_data, loss_curves, loss_vs_step, surface_trajectories

__all__ = ["Explorer", "TrajectoryArtist", "fit_over_data", "loss_curves", "loss_vs_step", "surface_trajectories"]
