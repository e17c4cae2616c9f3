"""Shared test set-up."""
import os

# The reference tests run Keras 3 on its PyTorch backend (CPU); this must be set before keras is imported.
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("MPLBACKEND", "Agg")
