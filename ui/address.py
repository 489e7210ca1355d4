"""Checks of the web server's --host and --port before Flet starts, so a bad value is one clear line
instead of a server that logs "startup complete" and listens nowhere, or a page of tracebacks."""

from __future__ import annotations

import argparse
import errno
import socket

MAX_PORT = 65535


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 1-65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-{MAX_PORT})") from None
    if not 1 <= port <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1-{MAX_PORT})")
    return port


def address_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port, or None when it can (checked by binding)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as error:
        return f"--host {host!r} is not a name or address this machine can use ({error})"
    with socket.socket(family, kind, proto) as probe:
        # As the server binds: a port in TIME_WAIT from an earlier run is free to reuse.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return (f"port {port} on {host} is already in use: stop the program using it "
                        "or choose another with --port")
            if error.errno == errno.EADDRNOTAVAIL:
                return f"--host {host} is not an address of this machine"
            if error.errno == errno.EACCES:
                return f"port {port} needs administrator rights: choose one above 1023 with --port"
            return f"cannot listen on {host}:{port}: {error.strerror}"
    return None
