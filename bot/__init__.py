"""Wegwijs: a multilingual assistant for international newcomers in Amstelveen."""

import os

# torch and TensorFlow share this process; with more than one OpenMP thread each on a 2-core
# machine a message takes ~1 s instead of ~40 ms. These must be set before either library loads.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Keep transformers from importing TensorFlow when sentence-transformers loads (torch only).
os.environ.setdefault("USE_TF", "0")
