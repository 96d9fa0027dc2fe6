"""Every command the README and docs/*.md show runs as written.

The commands come from the docs' fenced bash/sh/console blocks (`tests/doc_commands.py`
says how they are found and which cannot run here, each with its reason, printed by -rs).
Each runnable one runs in bash from a scratch view of the checkout: every top-level entry
linked from a temporary folder, `.venv` linked to the environment running the tests and
`../shared` to the shared data, so files a command writes beside the checkout's root, and
the files the docs show (`file=NAME` fences), never land in the repository. The
environment's bin/ comes first on PATH (`smilebooth`, `python`, `mypy`) and the checkout
first on PYTHONPATH, so the code under test is this checkout's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.doc_commands import (
    Block,
    Command,
    all_commands,
    blocks,
    commands,
    doc_files,
    fixture_files,
)
from tests.paths import ROOT, SHARED

TIMEOUT_S = 120
COMMANDS = all_commands(ROOT)


def _param(command: Command) -> object:
    marks = [pytest.mark.slow] if command.slow else []
    name = f"{command.path.relative_to(ROOT)}:{command.line}"
    return pytest.param(command, id=name, marks=marks)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch view of the repository: links to its entries, the docs' files written in."""
    base = tmp_path_factory.mktemp("docs-commands")
    view = base / "checkout"
    view.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in {".git", ".venv"}:
            (view / entry.name).symlink_to(entry)
    (view / ".venv").symlink_to(Path(sys.prefix))
    if SHARED.exists():
        (base / "shared").symlink_to(SHARED)
    for name, (_, contents) in fixture_files(ROOT).items():
        (view / name).write_text(contents, encoding="utf-8")
    return view


def _environment(view: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMILEBOOTH_")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(view), env.get("PYTHONPATH")]))
    return env


def _run(text: str, view: Path) -> subprocess.CompletedProcess[str]:
    """Run one command line as a reader would, in bash from the checkout's root."""
    try:
        return subprocess.run(
            ["bash", "-o", "pipefail", "-c", text],
            cwd=view,
            env=_environment(view),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{text!r} did not finish in {TIMEOUT_S} s")


@pytest.mark.parametrize("command", [_param(c) for c in COMMANDS])
def test_doc_command_runs_as_written(command: Command, checkout: Path) -> None:
    where = f"{command.path.relative_to(ROOT)}:{command.line}"
    if command.skip_reason:
        pytest.skip(f"{where}: {command.text.splitlines()[0]!r}: {command.skip_reason}")
    if "../shared" in command.text and not SHARED.exists():
        pytest.skip(f"{where}: {command.text!r}: needs ../shared beside the checkout")
    done = _run(command.text, checkout)
    assert done.returncode == command.expected_status, (
        f"{where}: {command.text!r} exited "
        f"{done.returncode}, the doc expects {command.expected_status}\n"
        f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    )


def test_commands_run_this_checkouts_code_and_report_failure(checkout: Path) -> None:
    """`smilebooth` and `python` are the test environment's, importing this checkout's edge/,
    and a command that fails is seen failing (the status is not lost on the way)."""
    where = _run("command -v smilebooth; python -c 'import edge; print(edge.__file__)'", checkout)
    smilebooth, edge_init = where.stdout.split()
    assert Path(smilebooth).parent == Path(sys.executable).parent
    assert Path(edge_init).resolve() == (ROOT / "edge" / "__init__.py").resolve()
    assert _run("smilebooth score --no-such-option samples/astronaut.jpg", checkout).returncode == 2
    assert _run("smilebooth score samples/no-such-photo.jpg", checkout).returncode != 0


def test_the_docs_show_commands_that_run() -> None:
    """The extraction finds the docs' commands, and some of them run here (not all skipped)."""
    runnable = [c for c in COMMANDS if c.skip_reason is None]
    assert {c.path.name for c in COMMANDS} >= {"README.md", "install.md"}
    assert any("smilebooth score" in c.text for c in runnable)


def test_every_fixture_file_is_used() -> None:
    """A file a doc shows for a command (file=NAME) is named by some command."""
    for name, (block, _) in fixture_files(ROOT).items():
        assert any(name in c.text for c in COMMANDS), f"{block.path}:{block.line}: {name} unused"


def _block(tmp_path: Path, markdown: str) -> list[Block]:
    page = tmp_path / "page.md"
    page.write_text(textwrap.dedent(markdown), encoding="utf-8")
    return blocks(page)


def test_extraction_console_heredoc_continuation_and_markers(tmp_path: Path) -> None:
    found = _block(
        tmp_path,
        """\
        Text.

        ```console
        $ smilebooth score a.jpg   # exit 3
        {"output": "not a command"}
        $ smilebooth bench \\
        >   --frames 10
        ```

        1. In a list:
           ```bash
           # a comment on its own
           sudo tee /etc/x <<'END'
           [Service]
           END
           ls -l '#not a comment'   # not run in tests: just an example
           ```

        <!-- not run in tests: needs the old checkout -->
        ```sh
        python -m tests.bench_compare --old /work/wt-old
        ```
        ```yaml file=bad.yaml
        a: 1
        ```
        """,
    )
    console, listed, marked, data = found
    first, second = commands(console)
    assert (first.line, first.text, first.expected_status) == (4, "smilebooth score a.jpg", 3)
    assert first.skip_reason is None
    assert second.text == "smilebooth bench \\\n  --frames 10"
    assert second.expected_status == 0
    tee, ls = commands(listed)
    assert tee.text == "sudo tee /etc/x <<'END'\n[Service]\nEND"
    assert tee.skip_reason is not None and "sudo" in tee.skip_reason
    assert ls.text == "ls -l '#not a comment'"
    assert ls.skip_reason == "just an example"
    assert [c.skip_reason for c in commands(marked)] == ["needs the old checkout"]
    assert data.file_name == "bad.yaml" and data.lines == ("a: 1",)


def test_every_doc_page_is_read() -> None:
    names = {path.name for path in doc_files(ROOT)}
    assert "README.md" in names
    assert names >= {p.name for p in (ROOT / "docs").glob("*.md")}
