"""Item 5: fuzzed configs and environment values: every failure a message, never a traceback.

Documents are built from the real section and key names with values drawn from a pool of
hostile scalars (explicit tags, huge integers, bad timestamps, deep nesting, aliases) and
random text, then loaded exactly as `smilebooth run` loads them. The known crashers are also
run through the real `validate-config` process.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge import exit_codes
from edge.config import ENV_OVERRIDES, AppConfig, ConfigError, load_config
from tests.reliability.helpers import assert_no_traceback, smilebooth

pytestmark = pytest.mark.reliability

SECTIONS = {
    f.name: [g.name for g in dataclasses.fields(getattr(AppConfig(), f.name))]
    for f in dataclasses.fields(AppConfig)
}
HOSTILE = [
    "!!float abc",
    "!!int xyz",
    "!!bool maybe",
    "!foo 0.5",
    "!!python/name:os.system",
    "!!python/object/apply:os.system ['true']",
    "!!timestamp 2001-13-45",
    "2001-13-45",
    "!!binary '@@@'",
    "1" * 5000,
    "-" + "9" * 4400,
    "1e400",
    ".nan",
    "-.inf",
    "0x" + "f" * 4400,
    "[" * 600 + "]" * 600,
    "{a: " * 300 + "1" + "}" * 300,
    "&a [1, *a]",
    "*nothing",
    "~",
    "''",
    '"\\0"',
    "0o777",
    "1_000",
    "true",
    "[1, 2]",
    "{x: 1}",
    '"\\udcff"',
    "'a\x01b'",
    "? [1]\n  : 2",
]
SCALAR = st.one_of(
    st.sampled_from(HOSTILE),
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=True).map(repr),
    st.text(max_size=20).map(lambda t: repr(t)),
    st.text(alphabet="[]{}:,!&*?|>-'\"#% \n\t0123456789abc", max_size=30),
)


@st.composite
def documents(draw: st.DrawFn) -> str:
    lines = []
    for section in draw(st.lists(st.sampled_from([*SECTIONS, "bogus"]), max_size=4)):
        lines.append(f"{section}:")
        keys = [*SECTIONS.get(section, ["x"]), "unknown_key"]
        for key in draw(st.lists(st.sampled_from(keys), max_size=4)):
            lines.append(f"  {key}: {draw(SCALAR)}")
    if draw(st.booleans()):
        lines.append(draw(SCALAR))
    text = "\n".join(lines)
    if draw(st.integers(0, 4)) == 0 and text:  # a cut or a stray byte somewhere
        at = draw(st.integers(0, len(text)))
        text = (
            text[:at] + draw(st.sampled_from(["", "\t", "\x00", ":", "\ufeff", "- "])) + text[at:]
        )
    return text


LOCATED = re.compile(r"^(?P<source>[^:]+)(:\d+)?: ")


def check_problems(exc: ConfigError, source: str) -> None:
    assert exc.problems
    for problem in exc.problems:
        assert problem.startswith(source), problem
        rest = problem[len(source) :]
        # a line number, or a key path / variable
        assert re.match(r"^:\d+: ", rest) or re.match(r"^: [\w.\[\]()]+", rest), problem


COUNT = {"cases": 0, "failures": 0}


@settings(
    max_examples=700,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(text=documents())
def test_fuzzed_yaml_gives_messages_not_tracebacks(tmp_path_factory, text: str) -> None:
    path = Path(tmp_path_factory.getbasetemp()) / "fuzz.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    COUNT["cases"] += 1
    try:
        load_config(path, environ={})
    except ConfigError as exc:
        COUNT["failures"] += 1
        check_problems(exc, str(path))


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(variable=st.sampled_from(sorted(ENV_OVERRIDES)), value=SCALAR)
def test_fuzzed_environment_gives_messages_naming_the_variable(
    tmp_path_factory, variable: str, value: str
) -> None:
    path = Path(tmp_path_factory.getbasetemp()) / "empty.yaml"
    path.write_text("")
    value = value.replace("\x00", "")  # the environment cannot hold a NUL
    try:
        load_config(path, environ={variable: value})
    except ConfigError as exc:
        for problem in exc.problems:
            assert problem.startswith(f"${variable}: "), problem
            section, key = ENV_OVERRIDES[variable]
            assert f"{section}." in problem or key in problem, problem


@pytest.mark.parametrize(
    "text",
    [
        "mqtt:\n  port: " + "[" * 600 + "]" * 600,
        "mqtt:\n  port: " + "1" * 4400,
        "trigger:\n  threshold: !!float abc",
        "mqtt:\n  port: !!int xyz",
        "mqtt:\n  enabled: !!bool maybe",
        "trigger:\n  threshold: !foo 0.5",
        "trigger:\n  threshold: !!python/name:os.system",
        "mqtt:\n  device_id: !!timestamp 2001-13-45",
    ],
)
def test_known_crashers_through_validate_config(tmp_path: Path, text: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(text + "\n")
    result = smilebooth("validate-config", str(config))
    assert_no_traceback(result)
    assert result.returncode == exit_codes.CONFIG
    assert re.search(rf"{re.escape(str(config))}:\d+: ", result.stderr.decode()), result.stderr


@pytest.mark.parametrize("value", ["[" * 600, "!!int xyz", "!foo 1", "1" * 4400, "&a 1"])
def test_known_crashers_through_the_port_variable(tmp_path: Path, value: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("mqtt: {enabled: false}\n")
    result = smilebooth("validate-config", str(config), env={"SMILEBOOTH_MQTT_PORT": value})
    assert_no_traceback(result)
    assert result.returncode == exit_codes.CONFIG
    assert "$SMILEBOOTH_MQTT_PORT: mqtt.port" in result.stderr.decode()


def test_binary_password_file_is_a_message(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"\xff\xfe\x00binary")
    config = tmp_path / "config.yaml"
    config.write_text(f"mqtt: {{enabled: true, password_file: {secret}}}\n")
    result = smilebooth("validate-config", str(config))
    assert_no_traceback(result)  # old: UnicodeDecodeError
    assert result.returncode == exit_codes.CONFIG
    assert f"mqtt.password_file: cannot read {secret}: not UTF-8 text" in result.stderr.decode()


def test_a_non_utf8_config_file_is_a_message(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_bytes(b"status:\n  interval_s: \xff\n")
    with pytest.raises(ConfigError, match=r":2: not UTF-8"):
        load_config(config, environ={})
