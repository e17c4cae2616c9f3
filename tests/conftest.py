"""Shared test set-up."""
import os

# The reference tests run Keras 3 on its PyTorch backend (CPU); this must be set before keras is imported.
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("MPLBACKEND", "Agg")

from hypothesis import settings

# Property tests draw the same examples on every run, so a CI result is reproducible; run with
# HYPOTHESIS_PROFILE=explore to search new examples locally.
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
