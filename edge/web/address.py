"""The booth's address as a guest's phone reaches it, for the share links' QR codes.

In order: `web.public_url` when set; else the address the guest screen itself was opened
on, unless that is this machine's loopback (a kiosk browser on the booth); else the LAN
address of the interface the system routes through (found without sending a packet).
"""

from __future__ import annotations

import ipaddress
import socket

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def base_url(public_url: str, scheme: str, host_header: str | None, port: int) -> str:
    """`http://host:port` (no trailing slash) that phones on the booth's network can open."""
    if public_url:
        return public_url.rstrip("/")
    if host_header and not is_loopback(host_header.rsplit(":", 1)[0].strip("[]")):
        return f"{scheme}://{host_header}"
    address = lan_address()
    return f"{scheme}://{address}:{port}" if address else f"{scheme}://{host_header}"


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def lan_address() -> str | None:
    """The IPv4 address of the interface with a route out (a UDP connect sends nothing),
    else the first non-loopback address of the host name; None when the booth has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only the route is looked up
            found = str(probe.getsockname()[0])
            if not is_loopback(found) and found != "0.0.0.0":
                return found
        except OSError:
            pass
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return None
    for info in infos:
        address = str(info[4][0])
        if not is_loopback(address):
            return address
    return None
