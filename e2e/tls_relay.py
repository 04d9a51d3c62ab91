#!/usr/bin/env python3
"""One guest connection to the e2e test's store, with TLS (run by QEMU, not by hand).

QEMU's user network starts this for each TCP connection the guest opens to the store's
address (`guestfwd=tcp:10.0.2.100:8443-cmd:python3 e2e/tls_relay.py CERT KEY PORT LOG`): the
connection is this process's standard input and output. It ends TLS with the test's own
throwaway server certificate (the guest trusts its CA through `[store] ca-file`) and relays the
plain HTTP to the `ardoise-store` on 127.0.0.1:PORT. It exits when either side closes, so
nothing outlives the guest's connection (or QEMU); its PID is in LOG.<pid>.pid meanwhile.

Python standard library only.
"""
from __future__ import annotations

import os
import select
import socket
import ssl
import sys


def relay(tls: ssl.SSLSocket, store: socket.socket) -> None:
    """Bytes both ways until either side closes. One thread: an SSL socket is not read and
    written from two threads at once. HTTP is request then answer, so a blocking read of
    the rest of a TLS record never holds back the other direction for long."""
    while True:
        readable = [tls] if tls.pending() else select.select([tls, store], [], [], 600)[0]
        if not readable:
            return
        for source in readable:
            sink = store if source is tls else tls
            try:
                data = source.recv(65536)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                continue
            except OSError:
                return
            if not data:
                return
            sink.sendall(data)


def main() -> int:
    cert, key, port, log = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    # Standard error is the guest's connection too: messages go to the test's log instead.
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 2)
    os.close(fd)
    # QEMU's spawn detaches this process (double fork): its PID is left for the test, which
    # ends any relay still running, by that PID, when it stops the store.
    pid_file = f"{log}.{os.getpid()}.pid"
    with open(pid_file, "w") as f:
        f.write(f"{os.getpid()}\n")
    try:
        return serve(cert, key, port)
    finally:
        os.unlink(pid_file)


def serve(cert: str, key: str, port: int) -> int:
    guest = socket.socket(fileno=os.dup(0))
    os.close(0)
    os.close(1)
    guest.settimeout(60)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    try:
        tls = context.wrap_socket(guest, server_side=True)
    except (ssl.SSLError, OSError) as e:
        print(f"tls_relay: handshake failed: {e}", file=sys.stderr)
        return 1
    tls.settimeout(None)
    store = socket.create_connection(("127.0.0.1", port), timeout=30)
    store.settimeout(None)
    try:
        relay(tls, store)
    except OSError as e:
        print(f"tls_relay: {e}", file=sys.stderr)
    finally:
        for s in (tls, store):
            try:
                s.close()
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
