"""Serving the planner: a bound socket, uvicorn on it, in the foreground or in a thread."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from probmodel.errors import UsageError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port), or one line why not."""
    if not 0 <= port <= 65535:
        raise UsageError(f"--port: {port} is not a port number (0-65535)")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise UsageError(f"--host: cannot resolve '{host}': {e}") from None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
    except OSError as e:
        sock.close()
        raise UsageError(f"--port: cannot listen on {host}:{port}: {e.strerror or e}"
                         + (" (another server is there; choose another --port)"
                            if e.errno == 98 else "")) from None
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


def _server(app):
    import signal

    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:
            # Ctrl-C (or SIGTERM) is how the planner is stopped: shut down and return,
            # without raising the signal again afterwards as uvicorn does (the CLI would
            # then report an interrupted command)
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            else:
                self.should_exit = True

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                            timeout_graceful_shutdown=2)
    return Server(config)


def url_of(sock: socket.socket) -> str:
    """The http URL a bound socket serves."""
    host, port = sock.getsockname()[:2]
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}/"


def serve(files: Sequence[Path], host: str = "127.0.0.1", port: int = 8050,
          save_dir: Path | None = None, say=print) -> None:
    """Serve the planner until Ctrl-C (or SIGTERM); then stop, leaving nothing behind."""
    from probmodel.planner.app import create_app
    from probmodel.planner.engine import Planner

    sock = bind(host, port)
    _log_to_terminal()
    planner = Planner(files, save_dir)
    app = create_app(planner)
    server = _server(app)
    say(f"probmodel planner: {url_of(sock)}  ({len(planner.files)} scenarios; Ctrl-C stops)")
    if host not in LOCAL_HOSTS:
        say(f"warning: listening on {host}: other machines can reach this planner "
            "(it has no login); use --host 127.0.0.1 to keep it on this machine")
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    say("probmodel planner stopped")


def _log_to_terminal() -> None:
    log = logging.getLogger("probmodel.planner")
    if not log.handlers:
        h = logging.StreamHandler()
        h.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        log.addHandler(h)
        log.setLevel(logging.INFO)
        log.propagate = False


@contextlib.contextmanager
def running(files: Sequence[Path], save_dir: Path | None = None,
            runs_dir: Path | None = None) -> Iterator[str]:
    """The planner on a free localhost port in a thread, for tests and benchmarks.

    Yields its URL; stops the server (and joins its thread) on the way out.
    """
    from probmodel.planner.app import create_app
    from probmodel.planner.engine import Planner

    sock = bind("127.0.0.1", 0)
    server = _server(create_app(Planner(files, save_dir), runs_dir))
    t = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    t.start()
    try:
        import time

        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        yield url_of(sock)
    finally:
        server.should_exit = True
        t.join(timeout=10)
        sock.close()
