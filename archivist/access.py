"""Who may use a server: a bearer token compared in constant time, and loopback only without one.

The same rule guards the page (a password instead of a token): an archive holds sources' words,
so nothing listens beyond this machine unless someone set a secret for it.
"""

from __future__ import annotations

import hmac
import ipaddress

from archivist.errors import BadInput


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or "localhost") only ever listens on this machine."""
    if host.strip().lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to any interface


def check_bind(host: str, secret: str | None, secret_name: str, flag: str = "--host") -> None:
    """Refuse to listen beyond loopback without a secret, saying how to set one."""
    if not is_loopback(host) and not secret:
        raise BadInput(f"Refusing to listen on {host} without {secret_name}: anyone who can reach the port "
                       f"could read the whole archive. Set {secret_name}, or use {flag} 127.0.0.1.")


def secret_matches(given: str | None, secret: str) -> bool:
    """Constant-time comparison, so response times do not leak how much of a guess was right."""
    return given is not None and hmac.compare_digest(given.encode("utf-8"), secret.encode("utf-8"))


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
