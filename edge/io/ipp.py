"""One IPP request, by hand: a CUPS job's state (Get-Job-Attributes, RFC 8011).

`lpstat` lists a job as "completed" whether it printed, was cancelled or was aborted by a
failing driver; only IPP's job-state tells them apart, and a print counted as done must
have printed. No IPP library on the Pi: the request is ~100 bytes of a documented binary
encoding over HTTP (TCP, or CUPS's local socket).
"""

from __future__ import annotations

import getpass
import http.client
import os
import socket
import struct
from dataclasses import dataclass

GET_JOB_ATTRIBUTES = 0x0009
JOB_STATES = {
    3: "pending",
    4: "held",
    5: "processing",
    6: "stopped",
    7: "canceled",
    8: "aborted",
    9: "completed",
}
_OPERATION, _END = 0x01, 0x03
_INTEGER, _ENUM = 0x21, 0x23
_URI, _CHARSET, _LANGUAGE, _NAME, _KEYWORD = 0x45, 0x47, 0x48, 0x42, 0x44


class IppError(RuntimeError):
    """The server could not be asked, or did not answer in IPP."""


@dataclass(frozen=True)
class JobState:
    state: str  # one of JOB_STATES' names
    reasons: tuple[str, ...]

    @property
    def finished(self) -> bool:
        return self.state in ("canceled", "aborted", "completed")


def job_state(server: str, job_id: int, timeout: float = 10.0) -> JobState:
    """The state of CUPS job `job_id` on `server` (host:port, a socket path, '' = local)."""
    body = struct.pack(">BBHI", 2, 0, GET_JOB_ATTRIBUTES, 1) + bytes([_OPERATION])
    body += _attribute(_CHARSET, "attributes-charset", "utf-8")
    body += _attribute(_LANGUAGE, "attributes-natural-language", "en")
    body += _attribute(_URI, "job-uri", f"ipp://localhost/jobs/{job_id}")
    body += _attribute(_NAME, "requesting-user-name", getpass.getuser())
    body += _attribute(_KEYWORD, "requested-attributes", "job-state")
    body += _attribute(_KEYWORD, "", "job-state-reasons")  # a second value of the same
    body += bytes([_END])
    connection = _connect(server, timeout)
    try:
        connection.request("POST", "/jobs/", body, {"Content-Type": "application/ipp"})
        response = connection.getresponse()
        data = response.read()
    except OSError as exc:
        raise IppError(f"CUPS at {server or 'localhost'}: {exc.strerror or exc}") from exc
    finally:
        connection.close()
    if response.status != 200 or len(data) < 8:
        raise IppError(f"CUPS answered HTTP {response.status} to Get-Job-Attributes")
    status = struct.unpack(">H", data[2:4])[0]
    if status >= 0x0400:
        raise IppError(f"CUPS refused Get-Job-Attributes for job {job_id} (0x{status:04x})")
    values = _parse(data[8:])
    state = values.get("job-state", [])
    if not state or not isinstance(state[0], int):
        raise IppError(f"no job-state for job {job_id} in CUPS's answer")
    reasons = tuple(str(v) for v in values.get("job-state-reasons", []))
    return JobState(JOB_STATES.get(state[0], f"state-{state[0]}"), reasons)


def _attribute(tag: int, name: str, value: str) -> bytes:
    encoded_name, encoded = name.encode(), value.encode()
    return (
        bytes([tag])
        + struct.pack(">H", len(encoded_name))
        + encoded_name
        + struct.pack(">H", len(encoded))
        + encoded
    )


def _parse(data: bytes) -> dict[str, list[object]]:
    """Attribute name -> values (integers and enums as int, the rest as text)."""
    values: dict[str, list[object]] = {}
    name, at = "", 0
    while at < len(data):
        tag = data[at]
        at += 1
        if tag == _END:
            break
        if tag < 0x10:  # a group delimiter
            continue
        if at + 2 > len(data):
            break
        length = struct.unpack(">H", data[at : at + 2])[0]
        name = data[at + 2 : at + 2 + length].decode(errors="replace") or name
        at += 2 + length
        length = struct.unpack(">H", data[at : at + 2])[0]
        raw = data[at + 2 : at + 2 + length]
        at += 2 + length
        value: object = (
            struct.unpack(">i", raw)[0]
            if tag in (_INTEGER, _ENUM) and len(raw) == 4
            else raw.decode(errors="replace")
        )
        values.setdefault(name, []).append(value)
    return values


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over CUPS's local socket (/run/cups/cups.sock)."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def _connect(server: str, timeout: float) -> http.client.HTTPConnection:
    if server.startswith("/"):
        return _UnixConnection(server, timeout)
    server = server or os.environ.get("CUPS_SERVER", "") or "localhost:631"
    if server.startswith("/"):
        return _UnixConnection(server, timeout)
    host, _, port = server.rpartition(":")
    if not host:  # "printhost" without a port
        host, port = port, "631"
    return http.client.HTTPConnection(host, int(port), timeout=timeout)
