"""Tagging a Dask DataFrame, for collections larger than one machine handles.

Install with ``pip install -e '.[dask]'``. The model travels once to each worker, as one
task of the graph that every partition depends on, rather than once per partition.
"""

from __future__ import annotations

import dask
import dask.dataframe as dd

from .tagging import Tagger, load


def _tag_partition(partition, tagger: Tagger, column: str, question_column: str | None, rating_column: str | None):
    return tagger.tag_frame(partition, column, question_column, rating_column)


def tag_dataframe(
    ddf: dd.DataFrame,
    column: str,
    *,
    question_column: str | None = None,
    rating_column: str | None = None,
    tagger: Tagger | None = None,
) -> dd.DataFrame:
    """Tag the comment column of a Dask DataFrame, partition by partition.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
    column : str
        The comment column.
    question_column : str, optional
        A column with the survey question each comment answers.
    rating_column : str, optional
        A column with the survey rating each comment explains (see :meth:`Tagger.tag_many`).
    tagger : Tagger, optional
        The model; the default model when not given.

    Returns
    -------
    dask.dataframe.DataFrame
        ``ddf`` with the columns of :meth:`Tagger.tag_frame` added, rows in the same order and
        partitions; lazy until computed.

    Examples
    --------
    >>> from distributed import Client                                       # doctest: +SKIP
    >>> client = Client("tcp://scheduler:8786")                              # doctest: +SKIP
    >>> ddf = dd.read_parquet("s3://bucket/fft-2026-10/*.parquet")           # doctest: +SKIP
    >>> tag_dataframe(ddf, "FFT answer").to_parquet("s3://bucket/tagged/")   # doctest: +SKIP
    """
    tagger = tagger if tagger is not None else load()
    meta = tagger.tag_frame(ddf._meta, column, question_column, rating_column)
    shared_tagger = dask.delayed(tagger, pure=True)
    return ddf.map_partitions(
        _tag_partition, shared_tagger, column, question_column, rating_column, meta=meta, align_dataframes=False
    )
