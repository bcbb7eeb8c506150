"""Safe on an office network: loopback by default, an access token on any other address, the Host header
checked (DNS rebinding), state-changing requests only from the page itself (Origin/Referer)."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

TOKEN_COOKIE = "wenming_token"
TOKEN_HEADER = "X-Wenming-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1"}


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(18)


def _machine_names() -> set[str]:
    """This machine's names and addresses, for a server bound to every interface (0.0.0.0)."""
    names = {socket.gethostname().lower(), socket.getfqdn().lower()}
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            names.add(str(info[4][0]).lower())
    except OSError:
        pass
    return names


def host_name(header: str) -> str:
    """`127.0.0.1:8765` -> `127.0.0.1`; `[::1]:8765` -> `::1`; lower case."""
    header = (header or "").strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


@dataclass
class Guard:
    """The checks every request passes before a view runs; `refusal` gives the Chinese reason or None."""

    host: str
    token: str | None = None            # required when not None
    allowed_hosts: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        bound = self.host.strip("[]").lower()
        self.allowed_hosts = set(LOCAL_NAMES) | {bound}
        if bound in ("0.0.0.0", "::", ""):
            self.allowed_hosts |= _machine_names()

    def host_refusal(self, host_header: str) -> str | None:
        if host_name(host_header) not in self.allowed_hosts:
            return "请求的主机名不是本工作台的地址，已拒绝（请直接用启动时显示的地址打开）"
        return None

    def token_ok(self, given: str | None) -> bool:
        return self.token is None or (bool(given) and hmac.compare_digest(str(given), self.token))

    def origin_refusal(self, method: str, origin: str | None, referer: str | None, fetch_site: str | None,
                       own_origin: str) -> str | None:
        if method.upper() in SAFE_METHODS:
            return None
        if fetch_site and fetch_site.lower() not in ("same-origin", "none"):
            return "来自其他网站的操作请求，已拒绝"
        own = own_origin.lower().rstrip("/")
        if origin:
            return None if origin.lower().rstrip("/") == own else "来自其他网站的操作请求，已拒绝"
        if referer:
            parts = urlsplit(referer)
            return None if f"{parts.scheme}://{parts.netloc}".lower() == own else "来自其他网站的操作请求，已拒绝"
        return "操作请求缺少来源信息（Origin/Referer），已拒绝；请在工作台页面上操作"
