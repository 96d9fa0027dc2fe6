"""What `validate-config` checks on this device beyond the YAML: everything `run` would
fail on at start-up, named by its key. Config objects do no I/O, so it lives here.

Models: every path-named key of a section that is switched on (generic: a detector's extra
model is checked the day its key exists), with its card. Files: the image folder, a video
file, the MQTT TLS files (loaded as the TLS client will, so a key that does not match its
certificate is named too). The web extra when the page is on. A folder that is missing or
read-only is not an error: it may be a mount that comes later.
"""

from __future__ import annotations

import importlib
import ssl
from pathlib import Path
from typing import Any

from edge.config.paths import path_keys

MODEL_SECTIONS = ("detector", "smile", "eyes")


def model_keys(config: Any) -> list[tuple[str, str]]:
    """(`section.key`, path) of every model file a run with this config loads."""
    keys = []
    for section in MODEL_SECTIONS:
        part = getattr(config, section, None)
        if part is None or getattr(part, "enabled", True) is False:
            continue
        keys += [(k, v) for k, v in path_keys(part, section + ".") if k.endswith("model")]
        if getattr(part, "model", None) == "":  # the section's own model: never optional
            keys.append((f"{section}.model", ""))
    return keys


def _file_problem(path: Path) -> str | None:
    try:
        if not path.exists():
            return f"not found: {path}"
        if not path.is_file():
            return f"not a regular file: {path}"
    except OSError as exc:
        return f"{path}: {exc.strerror or exc}"
    return None


def model_problems(config: Any) -> list[str]:
    from edge.perception.model_card import ModelCardError, verify_hash
    from edge.perception.pipeline import resolve_model_path

    problems = []
    for key, model in model_keys(config):
        if not model:
            problems.append(f"{key}: empty (the section is on: it needs its model file)")
            continue
        path = resolve_model_path(model)
        problem = _file_problem(path)
        card = path.with_suffix(".card.json")
        if problem:
            problems.append(f"{key}: model file {problem}")
        elif _file_problem(card):
            problems.append(f"{key}: no model card beside it ({card})")
        else:
            try:  # the card readable and the file the one it describes, as `run` checks
                verify_hash(path)
            except (ModelCardError, OSError) as exc:
                problems.append(f"{key}: {exc}")
    return problems


def load_problems(config: Any) -> list[str]:
    """Each stage's models loaded as `run` loads them (cards against the interpreters, the
    input each stage expects): what file checks cannot see. About a second."""
    from edge.perception import pipeline
    from edge.perception.model_card import ModelCardError

    builders = {  # one per section, so a failure names its own section's key
        "detector": getattr(pipeline, "build_face_detector", None),
        "smile": getattr(pipeline, "build_smile_model", None),
        "eyes": getattr(pipeline, "build_eye_reader", None),
    }
    problems = []
    for section, build in builders.items():
        part = getattr(config, section, None)
        if build is None or part is None or getattr(part, "enabled", True) is False:
            continue
        try:
            build(part)
        except (ModelCardError, FileNotFoundError, RuntimeError, ValueError, OSError) as exc:
            text = str(exc)
            keys = [
                key
                for key, value in model_keys(config)
                if key.startswith(section + ".") and str(pipeline.resolve_model_path(value)) in text
            ]
            problems.append(f"{keys[0] if keys else section + '.model'}: {text}")
    return problems


def source_problems(config: Any) -> list[str]:
    source = config.source
    if source.type == "images":
        from edge.io.image_io import IMAGE_SUFFIXES

        folder = Path(source.folder)
        try:
            if not folder.is_dir():
                return [f"source.folder: not a folder: {folder}"]
            if not any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir()):
                return [f"source.folder: no images in {folder}"]
        except OSError as exc:
            return [f"source.folder: {folder}: {exc.strerror or exc}"]
    elif source.type == "opencv":
        device = source.device
        live = device.isdigit() or "://" in device or "!" in device or device.startswith("/dev/")
        if not live and (problem := _file_problem(Path(device))):
            return [f"source.device: video file {problem}"]
        if not live and not _video_opens(device):
            return [f"source.device: not a video file OpenCV can open: {device}"]
    return []


def _video_opens(path: str) -> bool:
    """As the source opens a file: FFmpeg first, then whichever backend reads it."""
    import cv2

    for api in (cv2.CAP_FFMPEG, cv2.CAP_ANY):
        capture = cv2.VideoCapture(path, api)
        opened = capture.isOpened()
        capture.release()
        if opened:
            return True
    return False


def tls_problems(mqtt: Any) -> list[str]:
    """The TLS files as the client loads them; each problem names its key."""
    tls = mqtt.tls
    if not (mqtt.enabled and tls.enabled):
        return []
    problems = []
    for key in ("ca_file", "cert_file", "key_file"):
        value = getattr(tls, key)
        if value and (problem := _file_problem(Path(value))):
            problems.append(f"mqtt.tls.{key}: {problem}")
    if tls.key_file and not tls.cert_file:
        problems.append("mqtt.tls.key_file: set without mqtt.tls.cert_file")
    if problems:
        return problems
    context = ssl.create_default_context()
    if tls.ca_file:
        try:
            context.load_verify_locations(tls.ca_file)
        except (ssl.SSLError, OSError, ValueError) as exc:
            problems.append(f"mqtt.tls.ca_file: not a PEM CA certificate: {tls.ca_file} ({exc})")
    if tls.cert_file:
        try:
            context.load_cert_chain(tls.cert_file, tls.key_file or None)
        except (ssl.SSLError, OSError, ValueError) as exc:
            key = "key_file" if tls.key_file else "cert_file"
            problems.append(
                f"mqtt.tls.{key}: the client certificate and key do not load together "
                f"({tls.cert_file}, {tls.key_file or 'key in the same file'}: {exc})"
            )
    return problems


def web_problems(config: Any) -> list[str]:
    if not config.web.enabled:
        return []
    missing = []
    for module in ("starlette", "uvicorn"):
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    if missing:
        return [
            f"web.enabled: the page needs the web extra ({', '.join(missing)} missing): "
            "pip install 'smilebooth[web]'"
        ]
    return []


def device_problems(config: Any) -> list[str]:
    """Every start-up problem of this config on this device, each with its key."""
    from edge.io.capture import folder_problem

    problems = []
    if problem := folder_problem(config.capture.folder):
        problems.append(f"capture.folder: {config.capture.folder!r}: {problem}")
    problems += model_problems(config)
    problems += source_problems(config)
    problems += tls_problems(config.mqtt)
    problems += web_problems(config)
    return problems
