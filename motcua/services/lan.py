"""The machine's own address on the hall's network: what a session laptop prints in its QR.

Found without the internet and without a new dependency: connecting a UDP socket sends no
packet, but makes the kernel choose the source address of the route to the target (the
interface of the default route, or of the private network that holds the target).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

from motcua.errors import ValidationFailed

log = logging.getLogger(__name__)

# Private addresses (RFC 1918) the route is asked for; nothing is sent to them.
_PROBES = ("10.255.255.254", "192.168.255.254", "172.31.255.254")


def lan_address() -> str | None:
    """This machine's IPv4 address on its network (None when it has none but loopback)."""
    for probe in _PROBES:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.connect((probe, 9))
                address = str(sock.getsockname()[0])
            except OSError:  # no route at all (a laptop on its own hotspot without a gateway)
                continue
        if _usable(address):
            return address
    try:
        _, _, addresses = socket.gethostbyname_ex(socket.gethostname())
    except OSError:
        return None
    return next((a for a in addresses if _usable(a)), None)


def _usable(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_unspecified or ip.is_link_local)


def base_url(host: str, port: int) -> str:
    """``http://host:port`` (the port left out when it is 80)."""
    return f"http://{host}" if port == 80 else f"http://{host}:{port}"


def clean_base_url(text: str) -> str:
    """An address typed by the officer, checked: http(s)://host[:port][/path], no trailing /."""
    value = (text or "").strip().rstrip("/")
    parts = urlsplit(value)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise ValidationFailed(
            _l("Địa chỉ phải có dạng http://192.168.1.20:5000 (địa chỉ của máy này trong mạng)."),
            field="public_url",
        )
    if parts.query or parts.fragment:
        raise ValidationFailed(_l("Địa chỉ không được có phần ? hoặc #."), field="public_url")
    return value
