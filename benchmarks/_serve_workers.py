"""Serve an ASGI app with N uvicorn worker processes on a listening socket that keeps TCP_NODELAY.

``uvicorn --workers N`` binds its listening socket with ``proto`` 0; accepted connections inherit it
and asyncio then leaves Nagle's algorithm on, so every keep-alive request after the first waits for
the client's delayed ACK (~40 ms on Linux; uvicorn issue #3149, open in 0.38). Measured here: a bare
Starlette endpoint answered 350 req/s at p50 44 ms with ``--workers 2`` against 6,000 req/s with one
process. This launcher binds the socket with ``IPPROTO_TCP`` and hands it to uvicorn's own
multiprocess supervisor, as ``uvicorn --workers`` would.

    python benchmarks/_serve_workers.py APP --workers 2 --port 8000 [--factory] [--app-dir DIR]
"""

from __future__ import annotations

import argparse
import socket
import sys

import uvicorn
from uvicorn.supervisors import Multiprocess


def tcp_listener(host: str, port: int) -> socket.socket:
    """A listening TCP socket whose accepted connections asyncio puts in TCP_NODELAY."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--factory", action="store_true")
    parser.add_argument("--app-dir", default="")
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--no-access-log", action="store_true")
    args = parser.parse_args()
    if args.app_dir:
        sys.path.insert(0, args.app_dir)
    config = uvicorn.Config(args.app, host=args.host, port=args.port, workers=args.workers, factory=args.factory,
                            log_level=args.log_level, access_log=not args.no_access_log)
    sock = tcp_listener(args.host, args.port)
    if args.workers > 1:
        Multiprocess(config, target=uvicorn.Server(config).run, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
