"""A small validator that turns YAML into frozen dataclasses, or says exactly what is wrong.

Every error names the key path and the YAML line, e.g.
`config.yaml:14: trigger.threshold: expected a number in [0, 1], got 1.5`. Unknown keys,
wrong types and out-of-range values are all collected and reported together, before
anything (a camera, a model) is opened.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any, Literal, Union

import yaml


class ConfigError(ValueError):
    """The configuration is invalid; str() lists every problem, one per line."""

    def __init__(self, problems: list[str]) -> None:
        problems = [printable(p) for p in problems]  # a value's ESC or CR never reaches a tty
        super().__init__("\n".join(problems))
        self.problems = problems


def printable(text: str) -> str:
    """Control characters (and other unprintables) shown as escapes, e.g. \\x1b."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


# A config is a few hundred short lines; these bounds only stop hostile or broken input
# (a 500-level nesting blows Python's stack, a 5,000-digit integer its int parser).
MAX_TEXT = 1_000_000
MAX_DEPTH = 32
MAX_SCALAR = 10_000


def compose(text: str, source: str) -> yaml.Node | None:
    """Parse into nodes, accepting only plain YAML: no explicit tags (`!!float`, `!foo`,
    `!!python/...`), no anchors or aliases, bounded depth and size. Each refusal names the
    line; nothing here raises anything but ConfigError."""
    if len(text) > MAX_TEXT:
        raise ConfigError([f"{source}: {len(text):,} characters: a config is at most {MAX_TEXT:,}"])
    try:
        _check_events(text, source)
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except ConfigError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError([f"{source}{line}: not valid YAML: {exc}"]) from exc
    except (RecursionError, MemoryError, ValueError) as exc:
        raise ConfigError([f"{source}: not a readable config ({type(exc).__name__})"]) from exc


def _check_events(text: str, source: str) -> None:
    """One pass over the parser's events (iterative: no recursion however deep)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        mark = event.start_mark
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise ConfigError([f"{where}: anchors and aliases (&, *) are not supported here"])
        tag = getattr(event, "tag", None)
        if tag not in (None, "!"):
            raise ConfigError(
                [f"{where}: explicit YAML tags ({tag}) are not accepted: write the plain value"]
            )
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise ConfigError([f"{where}: nested more than {MAX_DEPTH} levels deep"])
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
        elif isinstance(event, yaml.ScalarEvent) and len(event.value) > MAX_SCALAR:
            raise ConfigError([f"{where}: a value of {len(event.value):,} characters"])


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def fail(self, node: yaml.Node | None, path: str, message: str) -> None:
        mark = getattr(node, "start_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        self.problems.append(f"{self.source}{line}: {path or '(top level)'}: {message}")

    def build(self, cls: type, node: yaml.Node | None, path: str) -> Any:
        """A dataclass instance from a mapping node; defaults for missing keys."""
        if node is None or (isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null")):
            return cls()
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, path, f"expected a mapping of {cls.__name__} settings")
            return cls()
        fields = {f.name: f for f in dataclasses.fields(cls)}
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        seen: set[str] = set()
        problems_before = len(self.problems)
        for key_node, value_node in node.value:
            key = self.key(key_node, path, seen)
            if key is None:
                continue
            where = f"{path}.{key}" if path else key
            if key not in fields:
                hint = getattr(cls, "__unknown_key_hint__", {}).get(key)
                known = ", ".join(sorted(fields))
                self.fail(key_node, where, hint or f"unknown key (known keys: {known})")
                continue
            ok, value = self.safe_value(hints[key], value_node, where, fields[key].metadata)
            if ok:
                values[key] = value
        try:
            instance = cls(**values)
            check = getattr(instance, "validate", None)
            # Cross-field checks only on a section whose keys were all read cleanly: after a
            # duplicate or bad key they would judge values the user still has to fix.
            if check is not None and len(self.problems) == problems_before:
                check()
        except (TypeError, ValueError) as exc:
            self.fail(node, path, str(exc))
            return cls()
        return instance

    def key(self, node: yaml.Node, path: str, seen: set[str]) -> str | None:
        """A mapping key as text; None (and a problem) for a list/mapping key or a repeat."""
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, path, f"a key must be a plain name, got a {_kind(node)}")
            return None
        key = str(node.value)
        if key in seen:
            self.fail(node, f"{path}.{key}" if path else key, "duplicate key")
            return None
        seen.add(key)
        return key

    def safe_value(self, hint: Any, node: yaml.Node, path: str, meta: Any) -> tuple[bool, Any]:
        """value(), with anything unforeseen turned into a problem at this key and line."""
        try:
            return self.value(hint, node, path, meta)
        except ConfigError:
            raise
        except Exception as exc:
            self.fail(node, path, f"cannot read this value ({type(exc).__name__}: {exc})"[:300])
            return False, None

    def value(self, hint: Any, node: yaml.Node, path: str, meta: Any) -> tuple[bool, Any]:
        origin = typing.get_origin(hint)
        if origin in (Union, types.UnionType):
            options = [a for a in typing.get_args(hint) if a is not type(None)]
            if isinstance(node, yaml.ScalarNode) and node.value in ("~", "null", ""):
                return True, None
            return self.value(options[0], node, path, meta)
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            return True, self.build(hint, node, path)
        if origin is dict:
            return self.mapping(hint, node, path, meta)
        if origin in (list, tuple):
            return self.sequence(hint, node, path, meta)
        return self.scalar(hint, node, path, meta)

    def mapping(self, hint: Any, node: yaml.Node, path: str, meta: Any) -> tuple[bool, Any]:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, path, "expected a mapping")
            return False, None
        value_type = typing.get_args(hint)[1]
        result: dict[str, Any] = {}
        seen: set[str] = set()
        ok = True
        for key_node, value_node in node.value:
            key = self.key(key_node, path, seen)
            if key is None:
                ok = False
                continue
            good, item = self.value(value_type, value_node, f"{path}.{key}", meta)
            ok &= good
            result[key] = item
        return ok, result

    def sequence(self, hint: Any, node: yaml.Node, path: str, meta: Any) -> tuple[bool, Any]:
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, path, "expected a list")
            return False, None
        args = typing.get_args(hint)
        fixed = typing.get_origin(hint) is tuple and Ellipsis not in args
        if fixed and len(node.value) != len(args):
            self.fail(node, path, f"expected a list of {len(args)} items, got {len(node.value)}")
            return False, None
        types_ = args if fixed else [args[0]] * len(node.value)
        items = [
            self.value(item_type, item, f"{path}[{i}]", meta)
            for i, (item_type, item) in enumerate(zip(types_, node.value, strict=True))
        ]
        values = [v for _, v in items]
        ok = all(good for good, _ in items)
        return ok, tuple(values) if typing.get_origin(hint) is tuple else values

    def scalar(self, hint: Any, node: yaml.Node, path: str, meta: Any) -> tuple[bool, Any]:
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, path, f"expected {_describe(hint, meta)}, got a {_kind(node)}")
            return False, None
        try:
            value = _plain_value(node)
        except (ValueError, OverflowError, yaml.YAMLError) as exc:
            self.fail(node, path, f"expected {_describe(hint, meta)}, got {_short(node.value)}")
            del exc
            return False, None
        if typing.get_origin(hint) is Literal:
            if value not in typing.get_args(hint):
                self.fail(node, path, f"expected {_describe(hint, meta)}, got {value!r}")
                return False, None
            return True, value
        if hint is float and isinstance(value, int) and not isinstance(value, bool):
            try:
                value = float(value)
            except OverflowError:
                self.fail(node, path, f"expected {_describe(hint, meta)}, got {_short(node.value)}")
                return False, None
        if hint is str and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # e.g. a numeric device id
        if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
            self.fail(node, path, f"expected {_describe(hint, meta)}, got {_short(repr(value))}")
            return False, None
        low, high = meta.get("min"), meta.get("max")
        if (
            (isinstance(value, float) and not math.isfinite(value))
            or (low is not None and value < low)
            or (high is not None and value > high)
        ):
            self.fail(node, path, f"expected {_describe(hint, meta)}, got {value!r}")
            return False, None
        return True, value


def _plain_value(node: yaml.ScalarNode) -> Any:
    """A scalar node's value by the YAML core rules (the tag the resolver gave it)."""
    constructor = yaml.SafeLoader.__new__(yaml.SafeLoader)
    yaml.constructor.SafeConstructor.__init__(constructor)
    return constructor.construct_object(node, deep=True)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _describe(hint: Any, meta: Any) -> str:
    if typing.get_origin(hint) is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    name = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}
    text = name.get(hint, getattr(hint, "__name__", str(hint)))
    low, high = meta.get("min"), meta.get("max")
    if low is not None and high is not None:
        return f"{text} in [{low}, {high}]"
    if low is not None:
        return f"{text} >= {low}"
    if high is not None:
        return f"{text} <= {high}"
    return text


def _kind(node: yaml.Node) -> str:
    return "mapping" if isinstance(node, yaml.MappingNode) else "list"


def build(cls: type, text: str, source: str) -> Any:
    """Parse YAML text into cls, raising ConfigError with every problem found."""
    builder = _Builder(source)
    instance = builder.build(cls, compose(text, source), "")
    if builder.problems:
        raise ConfigError(builder.problems)
    return instance


def override(
    instance: Any, section: str, values: dict[str, tuple[str, str]]
) -> tuple[Any, list[str]]:
    """instance with each key set from text, checked exactly as the same value in YAML
    would be, the section's cross-field rules once all are set; (instance, problems).

    values: key -> (text, where it came from: `$SMILEBOOTH_MQTT_HOST`, `--threshold`), which
    takes the place of the file and line in each message."""
    problems: list[str] = []
    changed: dict[str, Any] = {}
    hints = typing.get_type_hints(type(instance))
    meta = {f.name: f.metadata for f in dataclasses.fields(instance)}
    for key, (text, source) in values.items():
        builder = _Builder(source)
        path = f"{section}.{key}"
        # Text stays text for str keys (a device id "on" or "0" is not a bool or a number).
        node: yaml.Node = yaml.ScalarNode("tag:yaml.org,2002:str", text)
        if hints[key] is not str:
            try:
                node = compose(text, source) or node
            except ConfigError as exc:  # a tag, an alias, deep nesting: said with the source
                reason = exc.problems[0].removeprefix(source).lstrip(":0123456789 ")
                problems.append(f"{source}: {path}: {reason}")
                continue
            node.start_mark = None  # an environment variable or a flag has no line
        ok, value = builder.safe_value(hints[key], node, path, meta[key])
        problems += builder.problems
        if ok:
            changed[key] = value
    if problems or not changed:
        return instance, problems
    sources = ", ".join(dict.fromkeys(source for _, source in values.values()))
    try:
        result = dataclasses.replace(instance, **changed)
        check = getattr(result, "validate", None)
        if check is not None:
            check()
    except (TypeError, ValueError) as exc:
        return instance, [f"{sources}: {section}: {exc}"]
    return result, []
