"""Who may do what on the page: a token from a file/env/credential, compared in constant time.

Actions (delete, and with `run` the shutter and controls) are POSTs that carry the token in
a header, which a form or link on another site cannot add. Viewing is open unless
`web.protect_viewing`; then the page trades the token for a cookie (SameSite=Strict, so
another site's <img> gets nothing) that images and the photo list check.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "x-smilebooth-token"
COOKIE = "smilebooth_view"


class Guard:
    def __init__(self, token: str | None, protect_viewing: bool) -> None:
        self.token = token
        self.protect_viewing = protect_viewing and token is not None

    @property
    def actions_enabled(self) -> bool:
        return self.token is not None

    def token_ok(self, presented: str | None) -> bool:
        if self.token is None or not presented:
            return False
        return hmac.compare_digest(
            presented.encode("utf-8", "surrogateescape"),
            self.token.encode("utf-8", "surrogateescape"),
        )

    def view_cookie(self) -> str:
        """A cookie value that proves the token was shown, without being the token."""
        assert self.token is not None
        return hmac.new(self.token.encode(), b"view", hashlib.sha256).hexdigest()

    def may_view(self, header: str | None, cookie: str | None) -> bool:
        if not self.protect_viewing:
            return True
        if self.token_ok(header):
            return True
        if not cookie:
            return False
        # bytes, not str: compare_digest raises TypeError for a non-ASCII str (a 500)
        presented = cookie.encode("utf-8", "surrogateescape")
        return hmac.compare_digest(presented, self.view_cookie().encode())
