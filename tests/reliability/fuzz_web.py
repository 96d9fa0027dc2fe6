"""Raw HTTP requests for the fuzz: every route the app has (the guest screen's included,
read from the app itself), with hostile path parameters, query strings, headers, cookies
and bodies, with and without the token; sent over a plain socket, so nothing is cleaned up
by a client library on the way."""

from __future__ import annotations

import contextlib
import random
import socket
from collections.abc import Iterator
from dataclasses import dataclass

from tests.reliability.fuzz_images import image_cases

NAMES = [
    "..%2f..%2fetc%2fpasswd", "%00.jpg", "a" * 3000 + ".jpg", "%ff%fe.jpg", "caf%C3%A9.jpg",
    ".hidden.jpg", "missing.jpg", "x.json", "%2e%2e", "con.jpg", "%", "~root", "a b.jpg",
]  # fmt: skip
QUERIES = ["", "?download=1", "?download=%zz", "?" + "x=1&" * 500, "?%ff=%fe", "?a[]=1&a[]=2"]
COOKIES = [
    None, "smilebooth_view=caf\xe9", "smilebooth_view=" + "0" * 64, "smilebooth_view=\xff\xfe",
    "a=b; ;;=;", "smilebooth_view=" + "A" * 8000, '"quoted"=x', "=", "smilebooth_view=%00",
]  # fmt: skip
TOKENS = [None, "wrong", "t\xe9st", "x" * 9000, ""]
BODIES = [
    b"", b"{}", b'{"armed": true}', b'{"threshold": 1e999}', b'{"trigger": "now"}',
    b"[" * 5000, b'{"armed": "\\ud800"}', b"null", b"\xff\xfe\x00", b'{"threshold": -1}',
]  # fmt: skip
CONTENT_TYPES = [None, "application/json", "image/jpeg", "multipart/form-data", "\xe9/\xe9"]


@dataclass(frozen=True)
class RawRequest:
    data: bytes
    stream: bool  # an endless response: read its head only


def web_cases(
    count: int,
    routes: list[tuple[str, list[str]]],
    photos: list[str],
    token: str,
    view_cookie: str,
    seed: int = 30,
) -> Iterator[RawRequest]:
    """`routes`: (path template, its methods), as the app declares them."""
    rng = random.Random(seed)
    images = [data for _, data in image_cases(60, seed)]
    for _ in range(count):
        template, methods = rng.choice(routes)
        path = template
        while "{" in path:
            start, end = path.index("{"), path.index("}")
            name = rng.choice([*photos, *photos, *NAMES])
            path = path[:start] + name + path[end + 1 :]
        path += rng.choice(QUERIES)
        if rng.random() < 0.03:
            path = rng.choice(["*", "//", "/%", "/" + "x" * 20000, "/\x7f", "http://x/"])
        others = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]
        method = rng.choice(methods) if rng.random() < 0.85 else rng.choice(others)
        headers = ["Host: booth"]
        authorized = rng.random() < 0.5
        presented = token if authorized else rng.choice(TOKENS)
        if presented is not None:
            headers.append(f"X-Smilebooth-Token: {presented}")
        cookie = view_cookie if authorized and rng.random() < 0.5 else rng.choice(COOKIES)
        if cookie is not None:
            headers.append(f"Cookie: {cookie}")
        content_type = rng.choice(CONTENT_TYPES)
        if content_type is not None:
            headers.append(f"Content-Type: {content_type}")
        if rng.random() < 0.05:
            headers.append(rng.choice(["X-Junk: \x01\x02", "Range: bytes=9-1", "Expect: 100-x"]))
        body = b""
        if method in ("POST", "PUT") or rng.random() < 0.05:
            roll = rng.random()
            if roll < 0.4 and "score" in template:
                body = rng.choice(images)
            elif roll < 0.8:
                body = rng.choice(BODIES)
            else:
                body = rng.randbytes(rng.randint(0, 70_000))
        if rng.random() < 0.05:  # a lying or odd length (shorter than sent; never longer)
            headers.append(f"Content-Length: {rng.choice(['-1', 'abc', '0', '1e3'])}")
        else:
            headers.append(f"Content-Length: {len(body)}")
        head = (
            f"{method} {path} HTTP/1.1\r\n" + "\r\n".join(headers) + "\r\nConnection: close\r\n\r\n"
        )
        stream = template in ("/stream.mjpg", "/api/now/stream")
        yield RawRequest(head.encode("latin-1", "replace") + body, stream)


def send(port: int, request: RawRequest, timeout: float = 20.0) -> int | None:
    """The response's status code, or None when the server closed without one."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as client:
        # refused mid-body (413 or a parse error): the status may still be there
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            client.sendall(request.data)
        received = b""
        try:
            while b"\r\n" not in received:
                chunk = client.recv(4096)
                if not chunk:
                    break
                received += chunk
            if not request.stream:
                while client.recv(65536):  # the whole body: the server finishes its work
                    pass
        except (ConnectionResetError, TimeoutError):
            pass
    line = received.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) >= 2 and line[1].isdigit() else None
