"""Safe on an office network: loopback by default, an access token on any other address, the Host header
checked (DNS rebinding), state-changing requests only from the page itself (Origin/Referer)."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import socket
from dataclasses import dataclass, field
from urllib.parse import quote, unquote_to_bytes, urlsplit

TOKEN_COOKIE_PREFIX = "wm_token_"   # + the port: cookies do not tell the ports of one host apart, names do
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


def token_cookie(port: int | str) -> str:
    """The token cookie's name for the 工作台 on `port` (wm_token_8765)."""
    return f"{TOKEN_COOKIE_PREFIX}{port}"


def cookie_value(token: str) -> str:
    """The token as a cookie value: percent-encoded UTF-8, so any token (文明口令) travels as ASCII."""
    return quote(token, safe="")


def _byte_forms(value: str) -> set[bytes]:
    """The bytes a client may have meant by `value`: WSGI hands headers and cookies over as latin-1 text of
    the bytes received (UTF-8 sent raw), query arguments already decoded; any of them may be percent-encoded."""
    forms = {value.encode("utf-8")}
    try:
        forms.add(value.encode("latin-1"))
    except UnicodeEncodeError:
        pass
    for raw in list(forms):
        if b"%" in raw:
            forms.add(unquote_to_bytes(raw))
    return forms


def local_addresses() -> set[str]:
    """Every address of this machine's interfaces (IPv4 and IPv6, loopback included): what another computer
    on the network may type to reach a server bound to 0.0.0.0. getaddrinfo(hostname) alone often gives only
    127.0.1.1 (Debian's /etc/hosts), so the kernel's table of local addresses and the default route's source
    address are asked too."""
    found: set[str] = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            found.add(str(info[4][0]).split("%")[0])
    except OSError:
        pass
    try:  # Linux: every local IPv4 address ("/32 host LOCAL" entries)
        lines = open("/proc/net/fib_trie", encoding="ascii", errors="replace").read().splitlines()
        for before, line in zip(lines, lines[1:]):
            if "/32 host LOCAL" in line and "|--" in before:
                found.add(before.split("|--")[1].strip())
    except OSError:
        pass
    try:  # Linux: IPv6 addresses
        for line in open("/proc/net/if_inet6", encoding="ascii").read().splitlines():
            raw = line.split()[0]
            found.add(str(ipaddress.IPv6Address(int(raw, 16))))
    except (OSError, ValueError, IndexError):
        pass
    for family, probe in ((socket.AF_INET, "10.255.255.255"), (socket.AF_INET6, "fd00::1")):
        try:  # the source address of the default route (no packet is sent by connecting a UDP socket)
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.connect((probe, 9))
                found.add(str(s.getsockname()[0]).split("%")[0])
        except OSError:
            pass
    out = set()
    for address in found:
        try:
            out.add(str(ipaddress.ip_address(address)))
        except ValueError:
            continue
    return out


def lan_addresses() -> list[str]:
    """This machine's addresses other computers can use: not loopback, not link-local (IPv4 first)."""
    usable = []
    for address in local_addresses():
        ip = ipaddress.ip_address(address)
        if not (ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast):
            usable.append(ip)
    return [str(ip) for ip in sorted(usable, key=lambda ip: (ip.version, ip))]


def _machine_names() -> set[str]:
    """This machine's names and addresses, for a server bound to every interface (0.0.0.0)."""
    names = {socket.gethostname().lower(), socket.getfqdn().lower()}
    return names | local_addresses()


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

    def host_refusal(self, host_header: str, local_address: str | None = None) -> str | None:
        """None when the Host header names this 工作台: a name or address it was started for, or (bound to
        every interface) the very address the connection arrived at, which no DNS rebinding can fake."""
        name = host_name(host_header)
        if name in self.allowed_hosts:
            return None
        if self.wildcard and local_address:
            try:
                if ipaddress.ip_address(name) == ipaddress.ip_address(local_address.split("%")[0]):
                    return None
            except ValueError:
                pass
        return "请求的主机名不是本工作台的地址，已拒绝（请直接用启动时显示的地址打开）"

    @property
    def wildcard(self) -> bool:
        return self.host.strip("[]").lower() in ("0.0.0.0", "::", "")

    def token_ok(self, *given: str | None) -> bool:
        """Whether any of the values given (query, header, cookie) is the token, compared as bytes in constant
        time (hmac.compare_digest), so a token in any script works and a non-ASCII guess is just wrong."""
        if self.token is None:
            return True
        want = self.token.encode("utf-8")
        ok = False
        for value in given:
            if value:
                for form in _byte_forms(str(value)):
                    ok |= hmac.compare_digest(form, want)
        return ok

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
