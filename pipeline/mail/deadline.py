"""A deadline for a whole mail connection and for each exchange in it, not a timeout that every byte resets.

A server that trickles one byte a second keeps a socket timeout from ever firing; here a watchdog thread shuts
the socket down when the exchange (or the connection) runs out of time, and the caller says so in one line."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from typing import Any, Callable

DEFAULTS = {"timeout_seconds": 60, "connection_deadline_seconds": 1800}
MIN_RATE = 50 * 1024          # bytes per second a large fetch or send is allowed beyond its base time


def number(config: Any, key: str, default: float) -> float:
    """A positive number from unit.yaml's `mail:` section, as checked when the configuration was loaded
    (pipeline.settings: the one check for every mail setting); `default` for a key it does not hold."""
    from pipeline import settings
    mail = settings.of(config).mail
    return mail.number(key) if hasattr(mail, key) else default


def settings(config: Any) -> tuple[float, float]:
    """(seconds per exchange, seconds per connection) from unit.yaml's mail section."""
    return (number(config, "timeout_seconds", DEFAULTS["timeout_seconds"]),
            number(config, "connection_deadline_seconds", DEFAULTS["connection_deadline_seconds"]))


EXCHANGE = "一次收发"                 # what a stalled connection did not finish, for the one-line message
HANDSHAKE = "加密连接的 TLS 握手"
CONNECT = "建立连接"                 # the server did not accept the connection in time: not a stall, unreachable
GRACE = 0.5                          # a socket's own timeout is a backstop only: the watchdog acts first


class Deadline:
    """Watch one connection: each `step()` gives the next exchange `per_step` seconds (plus time for its size),
    never past the connection's overall deadline. At expiry the socket is shut down and `expired` is set;
    `what` names what was under way (an exchange, or the TLS handshake)."""

    def __init__(self, per_step: float, total: float):
        self.per_step = per_step
        self.end = time.monotonic() + total
        self.expires = min(self.end, time.monotonic() + per_step)
        self.what = EXCHANGE
        self._expired = False
        self._socket: Callable[[], Any] = lambda: None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mail-deadline", daemon=True)
        self._thread.start()

    def watch(self, get_socket: Callable[[], Any]) -> None:
        self._socket = get_socket

    def step(self, size: int = 0) -> None:
        self.expires = min(self.end, time.monotonic() + self.per_step + size / MIN_RATE)

    def remaining(self) -> float:
        return max(0.01, self.expires - time.monotonic())

    def connect(self, open_socket: Callable[[float], socket.socket]) -> socket.socket:
        """open_socket(timeout) within this exchange's time (no watchdog reaches a socket still connecting; `what`
        says so if it fails); then the socket's own timeout becomes a backstop past the whole connection's
        deadline: a timeout of per_step would cut short an exchange allowed more for its size, and be reported
        as a lost connection."""
        self.what = CONNECT
        sock = open_socket(self.remaining())
        self.what = EXCHANGE
        sock.settimeout(max(0.01, self.end - time.monotonic()) + GRACE)
        return sock

    @property
    def expired(self) -> bool:
        """The watchdog fired, or the time is up (a socket timeout may beat the watchdog's next look)."""
        return self._expired or time.monotonic() >= self.expires

    def tls(self, context: ssl.SSLContext) -> "WatchedTLS":
        """`context` as imaplib and smtplib take it, with every TLS handshake under this deadline."""
        return WatchedTLS(context, self)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            if time.monotonic() >= self.expires:
                self._expired = True
                sock = self._socket()
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                return

    def close(self) -> None:
        self._stop.set()

    def __enter__(self) -> "Deadline":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class WatchedTLS:
    """Stands in for an ssl.SSLContext in imaplib and smtplib. Their own wrap_socket shakes hands before the
    client holds the new socket, where no watchdog can reach it; here the TLS socket is watched from before the
    handshake, a stalled handshake is named, and a failed one closes its socket."""

    def __init__(self, context: ssl.SSLContext, guard: Deadline):
        self._context, self._guard = context, guard

    def wrap_socket(self, sock: socket.socket, server_hostname: str | None = None, **kwargs: Any) -> ssl.SSLSocket:
        guard = self._guard
        tls = self._context.wrap_socket(sock, server_hostname=server_hostname, do_handshake_on_connect=False,
                                        **kwargs)
        guard.watch(lambda: tls)
        timeout = tls.gettimeout()
        guard.what = HANDSHAKE
        try:
            tls.settimeout(guard.remaining() + GRACE)
            tls.do_handshake()
        except BaseException:
            tls.close()
            raise
        guard.what = EXCHANGE
        tls.settimeout(timeout)
        return tls


class Guarded:
    """Mixin for imaplib/smtplib clients: the client's socket is watched by `guard` from the moment it
    connects (the greeting included); a client that fails while connecting closes its socket at once."""

    def __init__(self, guard: Deadline, *args: Any, **kwargs: Any):
        self._guard = guard
        guard.watch(lambda: getattr(self, "sock", None))
        try:
            super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        except BaseException:
            close_quietly(getattr(self, "sock", None))
            raise


def close_quietly(sock: Any) -> None:
    if sock is not None:
        try:
            sock.close()
        except OSError:
            pass
