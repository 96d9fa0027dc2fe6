"""A real, private CUPS server for the tests, with a cups-pdf virtual printer.

Its own configuration, spool and logs in a temporary folder, on a free loopback port: the
system's CUPS (if any) is left alone. cups-pdf writes each job as a PDF under the
submitting user's ~/PDF (Debian's /etc/cups/cups-pdf.conf: `Out ${HOME}/PDF`); `pdf_of`
finds a job's file there by its title. cupsd and the cups-pdf backend run as root
(the backend is 0700 root): elsewhere the tests skip, saying why.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

CUPSD = "/usr/sbin/cupsd"
CUPS_PDF_BACKEND = Path("/usr/lib/cups/backend/cups-pdf")
QUEUE = "booth"


def require_cups() -> None:
    if not Path(CUPSD).exists() or shutil.which("lp") is None:
        pytest.skip("CUPS is not installed (apt install cups cups-bsd; scripts/test does it)")
    if not CUPS_PDF_BACKEND.exists():
        pytest.skip("cups-pdf is not installed (apt install printer-driver-cups-pdf)")
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm is not installed (apt install poppler-utils)")
    if os.geteuid() != 0:
        pytest.skip("the cups-pdf backend runs only under a cupsd started as root")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class CupsServer:
    def __init__(self) -> None:
        require_cups()
        # Not pytest's tmp_path: CUPS's filters run as the `lp` user and must reach it.
        self.root = Path(tempfile.mkdtemp(prefix="smilebooth-cups-"))
        self.root.chmod(0o755)
        self.port = free_port()
        self.server = f"127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> CupsServer:
        root = self.root
        for sub in ("spool", "spool/tmp", "cache", "state", "log"):
            (root / sub).mkdir(parents=True, exist_ok=True)
            (root / sub).chmod(0o1777 if sub == "spool/tmp" else 0o755)
        (root / "cupsd.conf").write_text(
            f"Listen 127.0.0.1:{self.port}\nLogLevel info\nDefaultAuthType None\n"
            "WebInterface No\nBrowsing No\n"
            "<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
            "<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n"
        )
        (root / "cups-files.conf").write_text(
            f"ServerRoot {root}\nRequestRoot {root}/spool\nTempDir {root}/spool/tmp\n"
            f"CacheDir {root}/cache\nStateDir {root}/state\nAccessLog {root}/log/access_log\n"
            f"ErrorLog {root}/log/error_log\nPageLog {root}/log/page_log\n"
            f"Printcap {root}/printcap\nServerBin /usr/lib/cups\nDataDir /usr/share/cups\n"
            "User lp\nGroup lp\nSystemGroup root\n"
        )
        self.process = subprocess.Popen(
            [CUPSD, "-f", "-c", str(root / "cupsd.conf"), "-s", str(root / "cups-files.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"cupsd did not start: {self.error_log()[-800:]}")
        self.run("lpadmin", "-p", QUEUE, "-E", "-v", "cups-pdf:/", "-m", self._cups_pdf_model())
        return self

    def _cups_pdf_model(self) -> str:
        models = self.run("lpinfo", "-m").splitlines()
        for line in models:
            if "CUPS-PDF" in line and "_opt" in line:
                return line.split()[0]
        raise RuntimeError("cups-pdf's driver (CUPS-PDF_opt.ppd) is not known to CUPS")

    def run(self, *command: str) -> str:
        done = subprocess.run(
            [command[0], "-h", self.server, *command[1:]],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)}: {done.stderr.strip()}")
        return done.stdout

    def error_log(self) -> str:
        path = self.root / "log" / "error_log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
            self.process = None
        shutil.rmtree(self.root, ignore_errors=True)


def pdf_folders() -> list[Path]:
    """Where cups-pdf puts a job of this user (or of an unknown one)."""
    home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    return [home / "PDF", Path("/var/spool/cups-pdf/ANONYMOUS")]


def pdf_of(title_part: str, timeout: float = 60.0) -> Path:
    """The PDF cups-pdf wrote for the job whose title contains `title_part`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for folder in pdf_folders():
            found = sorted(folder.glob(f"*{title_part}*.pdf")) if folder.is_dir() else []
            if found:
                return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no PDF for {title_part!r} in {pdf_folders()}")
