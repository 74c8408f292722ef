import pandas as pd
import pytest

pytest.importorskip("distributed", reason="the dask extra is not installed")
import dask.dataframe as dd  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

from feedback_nlp.dask import tag_dataframe  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            yield client


def test_two_workers_give_the_single_process_result(client, tagger, small_corpus):
    frame = pd.DataFrame({"id": range(400), "comment": small_corpus["text"].head(400).tolist(),
                          "question": small_corpus["question"].head(400).tolist()})
    frame.loc[7, "comment"] = None
    ddf = dd.from_pandas(frame, npartitions=4)
    result = tag_dataframe(ddf, "comment", question_column="question", tagger=tagger).compute()
    expected = tagger.tag_frame(frame, "comment", "question")
    assert result["id"].tolist() == expected["id"].tolist()
    assert result["themes"].tolist() == expected["themes"].tolist()
    assert result["sentiment"].tolist() == expected["sentiment"].tolist()
    assert (result["score_access"].to_numpy() == expected["score_access"].to_numpy()).all()
    assert len(client.scheduler_info()["workers"]) == 2
