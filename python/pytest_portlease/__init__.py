"""pytest fixtures over portlease: collision-free TCP ports for parallel tests.

``portlease("WEB_PORT", "DB_PORT", range="21000-21099")`` leases ports host-wide and returns
``{"WEB_PORT": 21017, "DB_PORT": 21018}``. Keyword arguments are the CLI's ``allocate``
options (``contiguous=True`` -> ``--contiguous``, ``owner_pid=N`` -> ``--owner-pid N``).
Each lease is owned by the process running the test (the xdist worker), so a worker killed
with ``kill -9`` leaves a lease the next allocation reclaims; it is released on teardown. A
lease the test did not make (``key=`` of a lease that was already there) is handed back and
left to its owner.

The leases go through one ``portlease serve`` per process (xdist worker) and registry,
started at the first fixture call and reused, over a Unix socket in a private temp
directory; it exits when the process does (``--exit-on-eof``). Where it cannot start (a CLI
without ``serve``, no Unix sockets, no ready line in 10 s) every call runs the CLI instead,
after one ``PortleaseWarning``; ``PORTLEASE_PYTEST_SERVER=0`` asks for the CLI path. If the
server dies, one new server is started; leases the dead one made are released through the
CLI.

The CLI is found through ``$PORTLEASE_CLI``, else ``portlease`` on PATH, else
``node_modules/.bin/portlease`` in the rootdir or a directory above it, else the CLI of the
npm package this plugin ships in (``../dist/cli/index.js``). A ``.js`` file is run with
``node`` (``$PORTLEASE_NODE`` to choose which).
"""

import atexit
import json
import os
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import warnings
from pathlib import Path

import pytest

__all__ = ["PortleaseError", "PortleaseWarning", "Ports", "find_cli"]

_TIMEOUT = 600  # seconds; a --wait longer than this needs its own timeout=
_READY_TIMEOUT = 10  # seconds for `portlease serve` to print its ready line
_SOCKET_MAX = 107  # bytes in sockaddr_un.sun_path, less the terminating NUL

# Fixture keyword -> field of the server's allocate request (owner_pid=N is owner "pid:N").
# Any other keyword (write=, or one the CLI does not know) sends that call through the CLI,
# which does it or refuses it with its own one line, as before.
_FIELDS = {
    "range",
    "contiguous",
    "key",
    "strategy",
    "ttl",
    "wait",
    "owner",
    "allow_ephemeral",
    "count",
}
_FLAGS = {"contiguous", "allow_ephemeral"}


class PortleaseError(Exception):
    """The CLI refused or failed; the message is its one line (``portlease: ...``)."""


class PortleaseWarning(UserWarning):
    """The lease server could not be used: the fixtures run the CLI for every call."""


class Ports(dict):
    """Port name -> port, plus the lease it belongs to (``.lease``, ``.key``)."""

    lease = ""
    key = ""


def _bundled_cli():
    # python/pytest_portlease/__init__.py -> <package root>/dist/cli/index.js
    return Path(__file__).resolve().parent.parent.parent / "dist" / "cli" / "index.js"


def find_cli(rootdir=None):
    """The command (a list) that runs the portlease CLI, or raise PortleaseError."""
    env = os.environ.get("PORTLEASE_CLI", "").strip()
    if env:
        return _command(env, "PORTLEASE_CLI")
    on_path = shutil.which("portlease")
    if on_path:
        return [on_path]
    start = Path(rootdir or os.getcwd()).resolve()
    for d in [start, *start.parents]:
        local = d / "node_modules" / ".bin" / "portlease"
        if local.is_file():
            return _command(str(local), str(local))
    bundled = _bundled_cli()
    if bundled.is_file():
        return _command(str(bundled), str(bundled))
    raise PortleaseError(
        "portlease: CLI not found: set PORTLEASE_CLI, put portlease on PATH "
        "(npm install -g portlease) or npm install portlease in the project"
    )


def _command(path, where):
    if not os.path.isfile(path):
        raise PortleaseError(f"portlease: {where}: {path!r} is not a file")
    if path.endswith((".js", ".mjs", ".cjs")) or not os.access(path, os.X_OK):
        node = os.environ.get("PORTLEASE_NODE", "").strip() or shutil.which("node")
        if not node:
            raise PortleaseError(
                f"portlease: cannot run {path}: node is not on PATH; set PORTLEASE_NODE"
            )
        return [node, path]
    return [path]


def _range(value):
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return f"{value[0]}-{value[1]}"
    return value


def _flags(options):
    args = []
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            args.append(flag)
        elif name == "range":
            args += [flag, str(_range(value))]
        else:
            args += [flag, str(value)]
    return args


def _message(stderr, code):
    lines = [
        l.strip()
        for l in stderr.splitlines()
        if l.strip() and not l.startswith(("portlease: warning:", "portlease: debug:"))
    ]
    return lines[-1] if lines else f"portlease: exited with status {code}"


def _run(cli, args, timeout=_TIMEOUT):
    try:
        return subprocess.run(
            cli + args,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except OSError as err:
        raise PortleaseError(f"portlease: cannot run {cli[0]}: {err}") from None
    except subprocess.TimeoutExpired:
        raise PortleaseError(
            f"portlease: {' '.join(args[:1])} took longer than {timeout}s"
        ) from None


def _lease_from(data, printed):
    try:
        ports = Ports((str(k), int(v)) for k, v in data["ports"].items())
        ports.lease, ports.key = str(data["lease"]), str(data["key"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise PortleaseError(
            f"portlease: allocate printed no lease: {printed.strip()[:200]!r}"
        ) from None
    return ports


# --- the lease server (`portlease serve`), one per process and registry ----------------


class _Unavailable(Exception):
    """The server cannot start; the message says why (for the one warning)."""


class _Gone(Exception):
    """The server died or the connection broke: the request may not have been done."""


def _server_wanted():
    v = os.environ.get("PORTLEASE_PYTEST_SERVER", "").strip().lower()
    return v not in ("0", "false", "no", "off")


def _socket_dir():
    d = tempfile.mkdtemp(prefix="portlease-pytest-")
    fits = len(os.fsencode(os.path.join(d, "serve.sock"))) <= _SOCKET_MAX
    if fits or not os.path.isdir("/tmp"):
        return d
    os.rmdir(d)  # $TMPDIR is too deep for a socket path
    return tempfile.mkdtemp(prefix="portlease-pytest-", dir="/tmp")


class _Server:
    """One `portlease serve --exit-on-eof` child, its stdin kept open, and one connection."""

    def __init__(self, cli, registry):
        if os.name == "nt" or not hasattr(socket, "AF_UNIX"):
            raise _Unavailable("this platform has no Unix sockets")
        self._sock = None
        self._buf = b""
        self._id = 0
        self._abandoned = {}  # id -> op of requests that timed out; their replies are skipped
        self._late_n = 0
        self._lock = threading.Lock()
        self.dead = False
        self._stderr = tempfile.TemporaryFile()  # no name: nothing to leave behind
        self._dir = _socket_dir()
        self._path = os.path.join(self._dir, "serve.sock")
        args = cli + ["serve", "--socket", self._path, "--exit-on-eof"]
        if registry is not None:
            args += ["--registry", registry]
        try:
            self.proc = subprocess.Popen(
                args,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                bufsize=0,
                start_new_session=True,  # Ctrl-C stops the tests, not the server under them
            )
        except OSError as err:
            self._cleanup()
            raise _Unavailable(f"cannot run {cli[0]}: {err}") from None
        try:
            ready = self._ready()
            self._connect(str(ready.get("socket") or self._path))
            # Connected: the socket file and its directory have done their work. Gone, no one
            # else can connect, and a worker killed with kill -9 leaves nothing in the temp
            # directory (the server exits at EOF on its stdin).
            self._cleanup_dir()
        except BaseException:
            self.proc.kill()  # no use for a server that is not ready
            self.close()
            raise

    def _ready(self):
        fd = self.proc.stdout.fileno()
        line = b""
        end = time.monotonic() + _READY_TIMEOUT
        while b"\n" not in line:
            left = end - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise _Unavailable(f"serve printed no ready line within {_READY_TIMEOUT}s")
            chunk = os.read(fd, 4096)
            if not chunk:
                try:
                    code = self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    code = None
                raise _Unavailable(self._why(code))
            line += chunk
        try:
            ready = json.loads(line.split(b"\n", 1)[0])
            if not isinstance(ready, dict) or not ready.get("socket"):
                raise ValueError
        except ValueError:
            printed = line.strip()[:200]
            raise _Unavailable(f"serve printed {printed!r}, not its ready line") from None
        return ready

    def _why(self, code):
        try:
            self._stderr.seek(0)
            text = self._stderr.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            text = ""
        lines = [l.strip() for l in text.splitlines() if l.strip()]
        said = [l for l in lines if l.startswith("portlease:") and not l.startswith(
            ("portlease: warning:", "portlease: debug:"))]
        said = said or [l for l in lines if "Error" in l] or lines[-1:]  # a crash: its error
        line = said[-1] if said else "no message"
        return line if code is None else f"serve exited with status {code}: {line}"

    def _connect(self, path):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(_READY_TIMEOUT)
            s.connect(path)
        except OSError as err:
            s.close()
            raise _Unavailable(f"cannot connect to {path}: {err}") from None
        self._sock = s

    def alive(self):
        return not self.dead and self.proc.poll() is None

    def request(self, req, timeout):
        """The reply object to one request; _Gone when the server or the connection broke."""
        with self._lock:
            if not self.alive() or self._sock is None:
                raise _Gone("the server exited")
            self._id += 1
            try:
                self._sock.settimeout(timeout)
                self._send(dict(req, id=self._id))
                while True:
                    reply = self._reply()
                    if reply.get("id") == self._id:
                        return reply
                    self._late(reply)
            except socket.timeout:
                # The server answers in order: its late reply is skipped by the next request.
                self._abandoned[self._id] = req.get("op")
                raise PortleaseError(
                    f"portlease: {req.get('op')} took longer than {timeout}s"
                ) from None
            except OSError as err:
                self._drop()
                raise _Gone(str(err)) from None

    def _send(self, req):
        self._sock.sendall((json.dumps(req) + "\n").encode())

    def _reply(self):
        while b"\n" not in self._buf:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise _Gone("the server closed the connection")
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        try:
            reply = json.loads(line)
            if not isinstance(reply, dict):
                raise ValueError
        except ValueError:
            self._drop()
            raise _Gone(f"the server answered {line[:200]!r}") from None
        return reply

    def _late(self, reply):
        """The reply to a request that timed out: a lease made for no one is released."""
        rid = reply.get("id")
        op = self._abandoned.pop(rid, None) if isinstance(rid, (int, str)) else None
        if op is None:
            self._drop()
            raise _Gone(f"the server answered request {rid!r} out of turn")
        ours = reply.get("ok") is True and reply.get("token") and reply.get("reused") is not True
        if op == "allocate" and ours:
            self._late_n += 1
            rid = f"late-{self._late_n}"  # apart from the numbered requests
            self._abandoned[rid] = "release"  # its reply is skipped like this one
            lease, token = reply.get("lease"), reply["token"]
            self._send({"op": "release", "lease": lease, "token": token, "id": rid})

    def _drop(self):
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
        self._sock, self._buf = None, b""

    def close(self):
        """Close the pipe (the server exits on EOF), reap it, remove the private directory."""
        self.dead = True
        self._drop()
        proc = getattr(self, "proc", None)
        if proc is not None:
            for f in (proc.stdin, proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._cleanup()

    def _cleanup_dir(self):
        for remove, path in ((os.unlink, self._path), (os.rmdir, self._dir)):
            try:
                remove(path)
            except OSError:
                pass

    def _cleanup(self):
        try:
            self._stderr.close()
        except (AttributeError, OSError):
            pass
        shutil.rmtree(self._dir, ignore_errors=True)


class _Servers:
    """This process's servers, keyed by CLI and registry; where none can run, None (the CLI)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._servers = {}  # key -> _Server, or None: use the CLI
        self._restarted = set()
        self._warned = False

    def get(self, cli, registry):
        """The live server for (cli, registry), started at need; None for the CLI path."""
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's servers are not ours
                self.__init__()
            # The server's registry is fixed at its start: $PORTLEASE_REGISTRY is part of the key.
            env = os.environ.get("PORTLEASE_REGISTRY") if registry is None else None
            key = (tuple(cli), registry, env)
            if key in self._servers:
                server = self._servers[key]
                if server is None or server.alive():
                    return server
                server.close()
                if key in self._restarted:
                    self._fallback(key, "the server died twice")
                    return None
                self._restarted.add(key)
            try:
                server = _Server(list(cli), registry)
            except _Unavailable as err:
                self._fallback(key, str(err))
                return None
            self._servers[key] = server
            return server

    def _fallback(self, key, why):
        self._servers[key] = None
        if not self._warned:
            self._warned = True
            warnings.warn(
                f"portlease: the lease server is not used ({why}); each lease and release "
                "runs the CLI instead (PORTLEASE_PYTEST_SERVER=0 chooses that without this "
                "warning)",
                PortleaseWarning,
                stacklevel=5,  # the test's call of the fixture
            )

    def close_all(self):
        with self._lock:
            if self._pid != os.getpid():
                return
            servers, self._servers = self._servers, {}
        for server in servers.values():
            if server is not None:
                server.close()


_servers = _Servers()
atexit.register(_servers.close_all)


def _server_request(names, options, pid):
    req = {"op": "allocate", "pid": pid}
    if names:
        req["names"] = list(names)
    for name, value in options.items():
        if name == "registry" or value is None or value is False:
            continue
        if name == "owner_pid":
            req["owner"] = f"pid:{value}"
        elif name == "owner" and str(value).strip() == "session":
            # The CLI's own session, which is this process's; the server runs in its own.
            req["owner"] = f"session:{os.getsid(0)}"
        elif name in _FLAGS:
            req[name] = value  # True; anything else is refused as the CLI refuses it
        elif name == "count":
            req[name] = int(value) if str(value).strip().isdigit() else value
        elif name == "range":
            req[name] = str(_range(value))
        else:
            req[name] = value if isinstance(value, bool) else str(value)  # ttl=3600 as --ttl 3600
    return req


def _refusal(reply, options):
    """The CLI's line for the server's refusal: the field it names spelt as the CLI's flag."""
    error = str(reply.get("error") or f"the server refused: {json.dumps(reply)[:200]}")
    field, sep, rest = error.partition(": ")
    if sep and field in _FIELDS:  # a field's JSON type ("contiguous: ... is not a boolean")
        error = f"--{field.replace('_', '-')}: {rest}"
    elif "owner_pid" in options and error.startswith("--owner pid: "):
        error = "--owner-pid: " + error[len("--owner pid: ") :]
    return f"portlease: {error}"


class _Leaser:
    """The factory behind both fixtures: one per test (or per session)."""

    def __init__(self, rootdir):
        self._rootdir = rootdir
        self._cli = None
        self._leases = []  # (id, registry, server or None for the CLI, token)

    def __call__(self, *names, timeout=_TIMEOUT, **options):
        __tracebackhide__ = True
        if self._cli is None:
            self._cli = find_cli(self._rootdir)
        if "json" in options:
            raise PortleaseError("portlease: json: the fixture always asks for JSON")
        registry = options.get("registry")
        registry = None if registry is None else str(registry)
        if (
            _server_wanted()
            and all(k in _FIELDS or k in ("owner_pid", "registry") for k in options)
            and str(options.get("owner", "")).strip() != "job"  # the CLI's job, not the server's
        ):
            ports = self._over_server(names, options, registry, timeout)
            if ports is not None:
                return ports
        return self._over_cli(names, options, registry, timeout)

    def _over_server(self, names, options, registry, timeout):
        __tracebackhide__ = True
        req = None
        for _ in range(2):  # once more on a new server if this one died
            server = _servers.get(self._cli, registry)
            if server is None:
                return None
            req = req or _server_request(names, options, os.getpid())
            try:
                reply = server.request(req, timeout)
            except _Gone:
                server.dead = True
                continue
            if reply.get("ok") is not True:
                raise PortleaseError(_refusal(reply, options))
            ports = _lease_from(reply, json.dumps(reply))
            token = reply.get("token")
            # A lease that was there before (the same key) is not this test's to end, even
            # when this server made it (the server then hands back its token).
            if token and reply.get("reused") is not True:
                self._leases.append((ports.lease, registry, server, str(token)))
            return ports
        return None

    def _over_cli(self, names, options, registry, timeout):
        __tracebackhide__ = True
        if "owner" not in options and "owner_pid" not in options:
            # The process running the test: an xdist worker, or pytest itself.
            options["owner_pid"] = os.getpid()
        args = ["allocate", *[str(n) for n in names], "--json", *_flags(options)]
        r = _run(self._cli, args, timeout)
        if r.returncode != 0:
            raise PortleaseError(_message(r.stderr, r.returncode))
        try:
            data = json.loads(r.stdout)
        except ValueError:
            data = None
        ports = _lease_from(data, r.stdout)
        if data.get("reused") is not True:  # a lease that was there before is not ours to end
            self._leases.append((ports.lease, registry, None, None))
        return ports

    def release_all(self):
        leases, self._leases = self._leases, []
        for lease, registry, server, token in reversed(leases):
            if server is not None and server.alive():
                try:
                    reply = server.request({"op": "release", "lease": lease, "token": token}, 60)
                except _Gone:
                    server.dead = True  # its leases go through the CLI; a new server next time
                except PortleaseError as err:
                    warnings.warn(f"{err}; lease {lease} ends with its owner or TTL")
                    continue
                else:
                    if reply.get("ok") is not True:
                        error = reply.get("error")
                        warnings.warn(
                            f"portlease: {error}; lease {lease} ends with its owner or TTL"
                        )
                    continue
            self._release_cli(lease, registry)

    def _release_cli(self, lease, registry):
        args = ["release", "--lease", lease]
        if registry is not None:
            args += ["--registry", registry]
        try:
            r = _run(self._cli, args, 60)
        except PortleaseError as err:
            warnings.warn(f"{err}; lease {lease} ends with its owner or TTL")
            return
        if r.returncode != 0:
            warnings.warn(
                f"{_message(r.stderr, r.returncode)}; lease {lease} ends with its owner or TTL"
            )


@pytest.fixture
def portlease(request):
    """Factory: ``portlease("WEB_PORT", "DB_PORT", range="21000-21099")`` -> {name: port};
    the leases are released when the test ends."""
    leaser = _Leaser(request.config.rootpath)
    yield leaser
    leaser.release_all()


@pytest.fixture(scope="session")
def portlease_session(request):
    """Like ``portlease``, but the leases last until the session (the xdist worker) ends."""
    leaser = _Leaser(request.config.rootpath)
    yield leaser
    leaser.release_all()
