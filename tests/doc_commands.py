"""The shell commands the README and docs/*.md show, and whether each can run here.

Every command an operator or a developer is told to type must work as written, so
`tests/test_docs_commands.py` runs them. This module only reads the Markdown: it finds the
fenced ```bash / ```sh / ```console blocks, splits them into commands and decides, by the
rules below, which ones cannot run on a test machine and why.

How a doc says what the test needs (plain Markdown, nothing else changes for a reader):
- `# not run in tests: REASON` in a command's trailing comment skips that command;
  `<!-- not run in tests: REASON -->` on the line right before a fence skips the block.
- `# exit N` in a command's trailing comment: the command is meant to end with status N
  (the default is 0).
- A fence whose info string names a file (```yaml file=bad.yaml) is written to that path in
  the scratch checkout before any command runs, so a command can use the file the doc shows.

Commands are run from the repository root; `../shared` is the shared data beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+)\s*(?P<info>.*)$")
MARKER = re.compile(r"not run in tests:\s*(?P<reason>\S.*?)\s*(?:-->)?\s*$")
BLOCK_MARKER = re.compile(r"^\s*<!--\s*not run in tests:\s*(?P<reason>\S.*?)\s*-->\s*$")
EXIT = re.compile(r"\bexit (?P<status>\d+)\b")
HEREDOC = re.compile(r"<<-?\s*(?P<quote>['\"]?)(?P<word>[A-Za-z_]\w*)(?P=quote)")
FILE_ATTRIBUTE = re.compile(r"\bfile=(?P<name>\S+)")

# What cannot run on a test machine, in order: (pattern on the command, why).
RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"<[a-z][a-z -]*>"), "has a placeholder to fill in"),
    (re.compile(r"\bsudo(edit)?\b"), "needs root (sudo): it changes the machine it runs on"),
    (re.compile(r"\bgit clone\b"), "makes a new checkout from the network"),
    (
        re.compile(r"\bpip install\b|\bpython3? -m venv\b"),
        "installs packages (network; it would change the environment the tests run in)",
    ),
    (re.compile(r"\b(systemctl|journalctl)\b"), "needs the installed systemd service"),
    (re.compile(r"\b[\w.-]+@[\w.-]+:"), "needs a booth on the network (ssh)"),
    (re.compile(r"^scripts/(setup|demo)\b"), "sets up .venv (pip, network) before it runs"),
    (
        re.compile(r"^scripts/test\b"),
        "runs the whole suite, which this test is part of (CI runs it)",
    ),
    (re.compile(r"^scripts/retrain\b"), "retrains every model (about 3 hours)"),
]
# Commands that take more than ~10 s here (bench a video, time many frames, type-check).
SLOW = re.compile(
    r"\bbench\b.*\.\./shared/media/video/|--faces-sweep|\btests\.camera_bench\b|\bmypy\b"
)


@dataclass(frozen=True)
class Block:
    """One fenced block: where it starts, its info string, its lines and any skip marker."""

    path: Path
    line: int  # 1-based line of the opening fence
    info: str
    lines: tuple[str, ...]
    skip_reason: str | None

    @property
    def language(self) -> str:
        return self.info.split()[0].lower() if self.info else ""

    @property
    def file_name(self) -> str | None:
        found = FILE_ATTRIBUTE.search(self.info)
        return found["name"] if found else None


@dataclass(frozen=True)
class Command:
    """One command as the doc shows it, with what the test should do with it."""

    path: Path
    line: int  # 1-based line in the doc
    text: str  # the command without its trailing comment (heredoc body included)
    comment: str
    skip_reason: str | None
    expected_status: int
    slow: bool


def blocks(path: Path) -> list[Block]:
    """Every fenced block of a Markdown file, indented ones (in lists) included."""
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        marker = BLOCK_MARKER.match(lines[index - 1]) if index else None
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            line = lines[end]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            end += 1
        reason = marker["reason"] if marker else None
        found.append(Block(path, index + 1, opening["info"].strip(), tuple(body), reason))
        index = end + 1
    return found


def split_comment(line: str) -> tuple[str, str]:
    """A shell line's command and its trailing comment (a `#` outside quotes, after a blank)."""
    quote = ""
    for position, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (position == 0 or line[position - 1].isspace()):
            return line[:position].rstrip(), line[position + 1 :].strip()
    return line.rstrip(), ""


def _command_lines(block: Block) -> list[tuple[int, str]]:
    """(offset in the block, line) of the lines that are commands: in a console block only
    those after a `$ ` prompt (and their continuations), in a script block every line."""
    if block.language != "console":
        return list(enumerate(block.lines))
    picked: list[tuple[int, str]] = []
    continuing = False
    for offset, line in enumerate(block.lines):
        if line.startswith("$ "):
            picked.append((offset, line[2:]))
        elif continuing:
            picked.append((offset, line[2:] if line.startswith("> ") else line))
        else:
            continue
        continuing = line.rstrip().endswith("\\")
    return picked


def commands(block: Block) -> list[Command]:
    """The block's commands, continuation lines (`\\`) and heredoc bodies joined to theirs."""
    found: list[Command] = []
    lines = _command_lines(block)
    index = 0
    while index < len(lines):
        offset, raw = lines[index]
        text, comment = split_comment(raw)
        index += 1
        if not text.strip():
            continue  # a blank line or a comment on its own
        parts = [text]
        while parts[-1].endswith("\\") and index < len(lines):
            more, more_comment = split_comment(lines[index][1])
            parts.append(more)
            comment = " ".join(filter(None, [comment, more_comment]))
            index += 1
        heredoc = HEREDOC.search(text)
        if heredoc:
            while index < len(lines):
                body = lines[index][1]
                parts.append(body)
                index += 1
                if body.strip() == heredoc["word"]:
                    break
        full = "\n".join(parts)
        exit_status = EXIT.search(comment)
        found.append(
            Command(
                path=block.path,
                line=block.line + 1 + offset,
                text=full,
                comment=comment,
                skip_reason=skip_reason(full, comment, block),
                expected_status=int(exit_status["status"]) if exit_status else 0,
                slow=bool(SLOW.search(full)),
            )
        )
    return found


def skip_reason(text: str, comment: str, block: Block) -> str | None:
    """Why a command cannot run here (a marker in the doc first, then the rules), or None."""
    marked = MARKER.search(comment)
    if marked:
        return marked["reason"]
    if block.skip_reason:
        return block.skip_reason
    for pattern, reason in RULES:
        found = pattern.search(text)
        if found:
            return f"{reason} ({found[0].strip()})"
    return None


def doc_files(root: Path) -> list[Path]:
    """The README and every page under docs/, in a stable order."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def all_commands(root: Path) -> list[Command]:
    return [
        command
        for path in doc_files(root)
        for block in blocks(path)
        if block.language in SHELL_LANGUAGES
        for command in commands(block)
    ]


def fixture_files(root: Path) -> dict[str, tuple[Block, str]]:
    """The files the docs show with `file=NAME` on their fence: name -> (block, contents)."""
    files: dict[str, tuple[Block, str]] = {}
    for path in doc_files(root):
        for block in blocks(path):
            name = block.file_name
            if name is None:
                continue
            contents = "\n".join(block.lines) + "\n"
            if name in files and files[name][1] != contents:
                earlier = files[name][0]
                raise ValueError(
                    f"{path}:{block.line}: file={name} differs from the one at "
                    f"{earlier.path}:{earlier.line}"
                )
            files[name] = (block, contents)
    return files
