"""daogou/logs.py: a child's output through a pipe into rotating files, the way the launcher
starts the services. Every line arrives once, in order, the files stay under the limit, and the
newest lines are in the current file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from daogou.logs import open_rotating_log

MAX_BYTES = 10_000
LINE_BYTES = 100  # each line the child writes, its newline included


def run_child(log: Path, lines: int, backups: int, text: str = "第{i:06d}行") -> None:
    """A child printing `lines` numbered lines of LINE_BYTES bytes each (the template padded
    with dots), half to stdout, half to stderr, as the services do."""
    program = (
        "import sys\n"
        f"for i in range({lines}):\n"
        f"    line = {text!r}.format(i=i).encode()\n"
        f"    line = line + b'.' * ({LINE_BYTES - 1} - len(line)) + b'\\n'\n"
        "    stream = sys.stdout if i % 2 else sys.stderr\n"
        "    stream.buffer.write(line)\n"
        "    stream.flush()\n"
    )
    with open_rotating_log(log, MAX_BYTES, backups) as rotating:
        child = subprocess.Popen(
            [sys.executable, "-c", program], stdout=rotating, stderr=subprocess.STDOUT
        )
    assert child.wait(timeout=30) == 0
    assert rotating.join(timeout=10), "the copy did not end after the child exited"


def numbers_in(path: Path) -> list[int]:
    data = path.read_bytes()
    assert data.endswith(b"\n")
    lines = data.decode("utf-8").splitlines()
    assert all(len(line.encode()) == LINE_BYTES - 1 for line in lines)
    return [int(line[1:7]) for line in lines]


def test_three_times_the_limit_rotates_into_two_backups_and_loses_nothing(tmp_path) -> None:
    log = tmp_path / "logs" / "rasa.log"
    # 290 lines of 100 bytes: 29,000 bytes; a file holds 99 lines (9,900 bytes), since the
    # 100th would reach the limit.
    run_child(log, lines=290, backups=5)

    files = [log.with_name("rasa.log.2"), log.with_name("rasa.log.1"), log]  # oldest first
    assert sorted(p.name for p in log.parent.iterdir()) == ["rasa.log", "rasa.log.1", "rasa.log.2"]
    assert [p.stat().st_size for p in files] == [9_900, 9_900, 9_200]
    assert all(p.stat().st_size < MAX_BYTES for p in files)
    numbers = [n for p in files for n in numbers_in(p)]
    assert numbers == list(range(290))  # every line exactly once, in order
    assert numbers_in(log) == list(range(198, 290))  # the newest in the current file


def test_only_the_newest_backups_are_kept(tmp_path) -> None:
    log = tmp_path / "web_app.log"
    run_child(log, lines=600, backups=2)  # six files' worth, three kept

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "web_app.log",
        "web_app.log.1",
        "web_app.log.2",
    ]
    kept = [n for name in ("web_app.log.2", "web_app.log.1") for n in numbers_in(tmp_path / name)]
    # 600 = 6 * 99 + 6: the oldest 396 lines rotated away, the rest in order
    assert kept + numbers_in(log) == list(range(396, 600))


def test_chinese_text_and_appending_to_an_existing_log(tmp_path) -> None:
    """Bytes reach the file unchanged, and sizes are counted in bytes, not characters; a
    restarted service appends to its log."""
    log = tmp_path / "action_server.log"
    log.write_bytes(b"")
    run_child(log, lines=50, backups=3, text="第{i:06d}行：您好，欢迎光临")
    run_child(log, lines=50, backups=3, text="第{i:06d}行：您好，欢迎光临")

    files = [log.with_name("action_server.log.1"), log]
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in files[::-1]]
    assert all(p.stat().st_size < MAX_BYTES for p in files)
    text = b"".join(p.read_bytes() for p in files).decode("utf-8")
    assert text.count("您好，欢迎光临") == 100
    assert [n for p in files for n in numbers_in(p)] == list(range(50)) * 2
