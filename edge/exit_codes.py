"""Exit statuses shared by every subcommand, so scripts and systemd can tell failures apart.

The table is printed by `smilebooth --help` and in the README; an invalid configuration is
2 whether `validate-config` or `run` finds it (argparse's usage errors are 2 as well).
"""

from __future__ import annotations

OK = 0
SOME_FAILED = 1  # finished, but some inputs failed (unreadable photos in `score`)
CONFIG = 2  # invalid configuration or command line
MODELS = 3  # the models cannot be loaded (missing file, card mismatch)
SOURCE = 4  # a video file or image folder cannot be opened (or gives `bench` no frame)
