"""A browser-like HTTP client for tests against real servers (gunicorn, HAProxy): its own
cookies, no automatic redirects, and a source address of its choosing."""

from __future__ import annotations

import http.client
import json
import re
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Client:
    """`cookies` may be shared between clients aimed at different ports: one browser session
    used on several hosts. `host`, when given, is sent as the Host header (a proxy's)."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    source: str = "127.0.0.1"
    host: str | None = None
    last_body: str = ""

    def request(
        self,
        method: str,
        path: str,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        *,
        json_body: Any = None,
    ) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=60, source_address=(self.source, 0)
        )
        sent = {**({"Host": self.host} if self.host else {}), **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data, doseq=True)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            body = json.dumps(json_body)
            sent["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        text = response.read().decode(errors="replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        conn.close()
        self.last_body = text
        return response.status, dict(response.headers), text

    def get(self, path: str) -> tuple[int, dict[str, str], str]:
        return self.request("GET", path)

    def csrf(self) -> str:
        match = _CSRF.search(self.last_body)
        assert match, f"no CSRF token on the last page: {self.last_body[:300]}"
        return match.group(1)

    def post_form(self, path: str, data: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        """GET the page for its CSRF token, then POST the form."""
        status, _, _ = self.get(path)
        assert status == 200, (path, status, self.last_body[:300])
        return self.request("POST", path, {"csrf_token": self.csrf(), **data})
