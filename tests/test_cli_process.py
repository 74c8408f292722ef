"""The command as a person runs it: in a terminal, stopped half way, with a wrong path."""

import os
import pty
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import psutil
import pytest

from .conftest import CORPUS_PATH, REPO

STOP_SIGNALS = {signal.SIGINT: 130, signal.SIGTERM: 143}


def _command(words: list[str]) -> list[str]:
    """``feedback-nlp ...`` as installed, or through this Python when the script is not on PATH."""
    if words[0] == "feedback-nlp" and shutil.which("feedback-nlp") is None:
        return [sys.executable, "-m", "feedback_nlp", *words[1:]]
    return words


def _readme_first_command() -> list[str]:
    """The tagging command of the README's first line of code, without its install step."""
    block = re.search(r"```bash\n(.*?)\n", (REPO / "README.md").read_text()).group(1)
    return shlex.split(block.split("&&")[-1].strip())


def _run_in_terminal(command: list[str], cwd) -> tuple[int, str]:
    """Run ``command`` with a pseudo-terminal as stdin, stdout and stderr; its code and screen."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, cwd=cwd, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    screen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        try:
            chunk = os.read(leader, 4096) if ready else b""
        except OSError:  # the terminal closed: the program has ended
            chunk = b""
        if not chunk:
            break
        screen += chunk
    os.close(leader)
    return process.wait(timeout=120), screen.decode(errors="replace")


def test_the_readmes_first_command_works_in_a_terminal(tmp_path):
    command = _readme_first_command()
    assert command[:2] == ["feedback-nlp", "tag"] and "--jobs" not in command  # the default: all cores
    (tmp_path / "data").symlink_to(REPO / "data")
    code, screen = _run_in_terminal(_command(command), tmp_path)
    assert code == 0, screen
    assert "Traceback" not in screen and "error" not in screen
    output = tmp_path / command[command.index("-o") + 1]
    assert len(pd.read_csv(output)) == len(pd.read_csv(REPO / "data" / "examples" / "comments.csv"))


@pytest.fixture(scope="module")
def big_export(tmp_path_factory):
    """20,000 comments: long enough to stop a run half way through."""
    texts = pd.read_csv(CORPUS_PATH, usecols=["text"], keep_default_na=False)["text"]
    frame = pd.DataFrame({"comment": texts.sample(20_000, replace=True, random_state=0).to_numpy()})
    path = tmp_path_factory.mktemp("big") / "export.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("stop,group,after", [(signal.SIGINT, True, 0.3), (signal.SIGTERM, False, 2.0),
                                              (signal.SIGTERM, True, 3.5)],
                         ids=["ctrl-c-early", "kill-main", "kill-group-late"])
def test_a_stopped_run_leaves_no_file_and_no_worker(big_export, tmp_path, stop, group, after):
    source = tmp_path / big_export.name
    shutil.copy(big_export, source)
    # Chunks of 10,000 explained comments take each worker many seconds: a run that let its
    # workers finish their chunks before stopping would take that long to stop.
    command = _command(["feedback-nlp", "tag", str(source), "-o", str(tmp_path / "out.csv"),
                        "--jobs", "2", "--chunk-rows", "10000", "--explain", "-q"])
    # A session of its own, as a shell gives a job: Ctrl-C reaches the whole process group.
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True)
    main = psutil.Process(process.pid)
    deadline = time.monotonic() + 120
    while len(main.children()) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    workers = main.children()
    assert len(workers) == 2, "the workers never started"
    time.sleep(after)  # workers starting up, or tagging under way with the temporary output open
    sent = time.monotonic()
    if group:  # as Ctrl-C in a terminal, or `kill -- -PGID`
        os.killpg(process.pid, stop)
    else:  # as `kill PID` or a scheduler
        process.send_signal(stop)
    _, err = process.communicate(timeout=60)
    assert time.monotonic() - sent < 5, "the workers were let finish their chunks"
    assert process.returncode == STOP_SIGNALS[stop]
    assert err.strip() == "feedback-nlp: stopped; no output was written"
    assert [p.name for p in tmp_path.iterdir()] == [source.name]
    psutil.wait_procs(workers, timeout=10)
    assert not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]


def test_a_path_error_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "afile").write_text("x")
    source = REPO / "data" / "examples" / "comments.csv"
    result = subprocess.run(_command(["feedback-nlp", "tag", str(source), "-o", str(tmp_path / "afile" / "o.csv")]),
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "afile" in result.stderr and "Traceback" not in result.stderr


def test_python_dash_m_gives_the_command_with_formats_and_exit_codes():
    result = subprocess.run([sys.executable, "-m", "feedback_nlp", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "Parquet" in text and "Exit codes" in text and "130" in text
