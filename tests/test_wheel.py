"""The package as a release ships it: `python -m build` (an sdist, then the wheel built from the
sdist), installed into a fresh virtual environment and run from a folder outside the repository.

The environment is created without the system's site-packages, and the wheel's dependencies come
from the package index: with the system's packages visible, a dependency missing from
pyproject.toml would go unnoticed, and the clone's editable install (an import hook) could be
imported instead of the wheel. Marked ``wheel`` (about two minutes with a warm pip cache);
``-m "not wheel"`` leaves it out, CI runs it.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from .conftest import DEFAULT_MODEL, EXAMPLES_PATH, REPO

pytestmark = pytest.mark.wheel

PACKAGED_MODEL = "feedback_nlp/_models/default"
# The README's tagging command, run on a copy of data/examples/comments.csv.
TAG = ["tag", "comments.csv", "-o", "tagged.csv"]


def clean_env(**extra) -> dict:
    """This process's environment without what would point Python at the clone or another env."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return {**env, "PYTHONNOUSERSITE": "1", **extra}


def run(command, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env or clean_env(), capture_output=True, text=True,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def files_under(folder: Path) -> list[Path]:
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    if importlib.util.find_spec("build") is None:
        pytest.fail("the build package is missing: pip install -e '.[test]'")
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", out, REPO], cwd=out)
    (wheel,), (sdist,) = out.glob("*.whl"), out.glob("*.tar.gz")
    print(f"\nwheel {wheel.name}: {wheel.stat().st_size / 1e6:.2f} MB")
    return {"wheel": wheel, "sdist": sdist}


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel and its dependencies installed."""
    where = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", where / "env"], cwd=where)
    start = time.perf_counter()
    run([where / "env" / "bin" / "pip", "install", dist["wheel"]], cwd=where)
    print(f"\npip install of the wheel into a fresh venv: {time.perf_counter() - start:.1f} s")
    return where / "env"


def test_wheel_and_sdist_carry_the_default_model_and_the_data_files(dist):
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        names = set(wheel.namelist())
        model_files = files_under(DEFAULT_MODEL)
        assert model_files, f"no files in {DEFAULT_MODEL}"
        for name in model_files:
            packed = f"{PACKAGED_MODEL}/{name.as_posix()}"
            assert packed in names, f"the wheel lacks models/default/{name} (as {packed})"
            assert wheel.read(packed) == (DEFAULT_MODEL / name).read_bytes(), f"{packed} differs"
        # Every file the package reads at run time: all that sits beside its code.
        for name in files_under(REPO / "feedback_nlp"):
            if name.suffix != ".py" and name.parts[0] != "_models":
                assert f"feedback_nlp/{name.as_posix()}" in names, f"the wheel lacks feedback_nlp/{name}"
    with tarfile.open(dist["sdist"]) as sdist:
        members = {Path(*Path(m).parts[1:]).as_posix() for m in sdist.getnames()}
    for name in model_files:
        assert f"models/default/{name.as_posix()}" in members, f"the sdist lacks models/default/{name}"


def test_wheel_tags_the_example_as_the_clone_does_from_outside_the_repository(venv, tmp_path):
    bin_ = venv / "bin"
    run([bin_ / "pip", "check"], cwd=tmp_path)
    # The package and its default model come from the environment, not from the clone.
    where = run(
        [bin_ / "python", "-c", "import feedback_nlp, feedback_nlp.tagging as t; "
         "print(feedback_nlp.__file__); print(t.DEFAULT_MODEL_DIR)"],
        cwd=tmp_path,
    ).stdout.splitlines()
    site = Path(run([bin_ / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                    cwd=tmp_path).stdout.strip())
    assert Path(where[0]) == site / "feedback_nlp" / "__init__.py"
    assert Path(where[1]) == site / PACKAGED_MODEL

    installed, clone = tmp_path / "installed", tmp_path / "clone"
    for folder in (installed, clone):
        folder.mkdir()
        shutil.copy(EXAMPLES_PATH, folder / "comments.csv")
    run([bin_ / "feedback-nlp", *TAG], cwd=installed)
    # The clone's code, whatever this environment's editable install points at.
    from_clone = clean_env(PYTHONPATH=str(REPO))
    run([sys.executable, "-m", "feedback_nlp.cli", *TAG], cwd=clone, env=from_clone)
    assert (installed / "tagged.csv").read_bytes() == (clone / "tagged.csv").read_bytes()

    version = run([bin_ / "feedback-nlp", "--version"], cwd=installed).stdout
    assert "(default model " in version and " created " in version, version
    assert version == run([sys.executable, "-m", "feedback_nlp.cli", "--version"], cwd=clone, env=from_clone).stdout


def test_dask_extra_installs_from_the_wheel_and_tags(venv, dist, tmp_path):
    bin_ = venv / "bin"
    run([bin_ / "pip", "install", f"{dist['wheel']}[dask]"], cwd=tmp_path)
    run([bin_ / "pip", "check"], cwd=tmp_path)
    script = (
        "import dask.dataframe as dd, pandas as pd\n"
        "from feedback_nlp import load\n"
        "from feedback_nlp.dask import tag_dataframe\n"
        "from feedback_nlp.tagging import RESULT_COLUMNS\n"
        "frame = pd.DataFrame({'comment': ['Kind nurses', 'Waited four hours', None, 'Parking was awful']})\n"
        "tagger = load()\n"
        "got = tag_dataframe(dd.from_pandas(frame, npartitions=2), 'comment', tagger=tagger)\n"
        "got, want = got.compute(scheduler='synchronous'), tagger.tag_frame(frame, 'comment')\n"
        "for column in RESULT_COLUMNS:\n"
        "    assert got[column].tolist() == want[column].tolist(), column\n"
    )
    run([bin_ / "python", "-c", script], cwd=tmp_path)
