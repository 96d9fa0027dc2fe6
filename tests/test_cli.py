"""The `smilebooth` command line as a person meets it: help, version, -v/-q anywhere,
the same exit status and message for a config problem however it is given."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

from edge import exit_codes
from edge.cli import build_parser
from tests.paths import ROOT


def smilebooth(*args: str, cwd=ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_version_and_help_for_users() -> None:
    shown = smilebooth("--version")
    assert shown.returncode == 0 and shown.stdout.strip() == f"smilebooth {version('smilebooth')}"
    helped = smilebooth("--help")
    assert helped.returncode == 0
    assert "takes the picture when everyone smiles" in helped.stdout
    assert "exit status:" in helped.stdout and "2  invalid configuration" in helped.stdout
    assert "Subcommand modules are imported" not in helped.stdout  # not the module docstring


def test_verbosity_before_or_after_the_subcommand() -> None:
    for argv in (["-v", "score", "x.jpg"], ["score", "x.jpg", "-v"], ["score", "-v", "x.jpg"]):
        args = build_parser(argv).parse_args(argv)
        assert args.verbose and not args.quiet, argv
    args = build_parser(["score", "-q", "x.jpg"]).parse_args(["score", "-q", "x.jpg"])
    assert args.quiet and not args.verbose
    args = build_parser(["score", "x.jpg"]).parse_args(["score", "x.jpg"])
    assert not args.verbose and not args.quiet


def test_threshold_flag_and_file_are_checked_alike(tmp_path) -> None:
    """threshold 0.3 under rearm_threshold 0.55: refused the same way from the file and the
    flag, with the same exit status from validate-config and run."""
    in_file = tmp_path / "low.yaml"
    in_file.write_text("trigger:\n  threshold: 0.3\n")
    plain = tmp_path / "plain.yaml"
    plain.write_text(f"capture: {{folder: {tmp_path / 'photos'}}}\n")
    validated = smilebooth("validate-config", str(in_file))
    ran = smilebooth("run", "--config", str(in_file))
    flagged = smilebooth("run", "--config", str(plain), "--threshold", "0.3")
    for result in (validated, ran, flagged):
        assert result.returncode == exit_codes.CONFIG, result.stderr
        assert "Traceback" not in result.stderr
    file_message = next(line for line in ran.stderr.splitlines() if "trigger" in line)
    flag_message = next(line for line in flagged.stderr.splitlines() if "trigger" in line)
    assert file_message.split(": ", 1)[1] == flag_message.split(": ", 1)[1], (
        file_message,
        flag_message,
    )
    assert flag_message.startswith("--threshold: ")
    assert "rearm_threshold" in flag_message
    bad = smilebooth("run", "--config", str(plain), "--threshold", "lots")
    assert bad.returncode == exit_codes.CONFIG and "--threshold: trigger.threshold" in bad.stderr


def test_score_shows_progress_on_a_terminal_and_nothing_in_a_pipe(tmp_path) -> None:
    import os
    import pty
    import shutil

    from tests.paths import require

    folder = tmp_path / "photos"
    folder.mkdir()
    for index in range(3):
        shutil.copy(require(ROOT / "samples" / "astronaut.jpg"), folder / f"{index}.jpg")
    command = [sys.executable, "-m", "edge.cli", "score", str(folder)]
    master, slave = pty.openpty()
    try:
        child = subprocess.run(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=slave, timeout=120, text=True
        )
        os.close(slave)
        shown = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
    assert child.returncode == 0
    assert b"scoring [" in shown and b"3/3" in shown and b"\r" in shown
    assert len(child.stdout.splitlines()) == 3  # the JSON lines untouched
    piped = smilebooth("score", str(folder))
    assert piped.returncode == 0 and "scoring [" not in piped.stderr and "\r" not in piped.stderr


def test_quiet_hides_the_runtimes_info_line_and_default_logs_it_as_ours() -> None:
    """-q used to print the C++ runtime's "INFO: Created TensorFlow Lite XNNPACK delegate
    for CPU." anyway (it writes to fd 2 itself, past Python's logging)."""
    from tests._loop_helpers import require_models

    require_models()
    photo = str(ROOT / "samples" / "astronaut.jpg")
    quiet = smilebooth("-q", "score", photo)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == "" and '"faces"' in quiet.stdout
    plain = smilebooth("score", photo)
    assert "INFO edge.perception.runtime: Created TensorFlow Lite XNNPACK" in plain.stderr
    assert "\nINFO: " not in "\n" + plain.stderr  # not raw any more


def test_the_runtimes_other_lines_still_reach_stderr(capfd, caplog) -> None:
    import logging
    import os

    from edge.perception.runtime import runtime_log_to_logging

    with caplog.at_level(logging.INFO, "edge.perception.runtime"), runtime_log_to_logging():
        os.write(2, b"INFO: Created a delegate.\nERROR: Didn't find op for builtin opcode\n")
    assert capfd.readouterr().err == "ERROR: Didn't find op for builtin opcode\n"
    assert [r.getMessage() for r in caplog.records] == ["Created a delegate."]
