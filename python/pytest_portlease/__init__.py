"""pytest fixtures over the portlease CLI: collision-free TCP ports for parallel tests.

``portlease("WEB_PORT", "DB_PORT", range="21000-21099")`` leases ports host-wide and returns
``{"WEB_PORT": 21017, "DB_PORT": 21018}``. Keyword arguments are the CLI's ``allocate``
options (``contiguous=True`` -> ``--contiguous``, ``owner_pid=N`` -> ``--owner-pid N``).
Each lease is owned by the process running the test (the xdist worker), so a worker killed
with ``kill -9`` leaves a lease the next allocation reclaims; it is released on teardown.

The CLI is found through ``$PORTLEASE_CLI``, else ``portlease`` on PATH, else
``node_modules/.bin/portlease`` in the rootdir or a directory above it, else the CLI of the
npm package this plugin ships in (``../dist/cli/index.js``). A ``.js`` file is run with
``node`` (``$PORTLEASE_NODE`` to choose which).
"""

import json
import os
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

__all__ = ["PortleaseError", "Ports", "find_cli"]

_TIMEOUT = 600  # seconds; a --wait longer than this needs its own timeout=


class PortleaseError(Exception):
    """The CLI refused or failed; the message is its one line (``portlease: ...``)."""


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


def _flags(options):
    args = []
    for name, value in options.items():
        if name == "json":
            raise PortleaseError("portlease: json: the fixture always asks for JSON")
        flag = "--" + name.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            args.append(flag)
        elif isinstance(value, (tuple, list)) and name == "range" and len(value) == 2:
            args += [flag, f"{value[0]}-{value[1]}"]
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


class _Leaser:
    """The factory behind both fixtures: one per test (or per session)."""

    def __init__(self, rootdir):
        self._rootdir = rootdir
        self._cli = None
        self._leases = []  # (id, registry)

    def __call__(self, *names, timeout=_TIMEOUT, **options):
        __tracebackhide__ = True
        if self._cli is None:
            self._cli = find_cli(self._rootdir)
        if "owner" not in options and "owner_pid" not in options:
            # The process running the test: an xdist worker, or pytest itself.
            options["owner_pid"] = os.getpid()
        args = ["allocate", *[str(n) for n in names], "--json", *_flags(options)]
        r = _run(self._cli, args, timeout)
        if r.returncode != 0:
            raise PortleaseError(_message(r.stderr, r.returncode))
        try:
            data = json.loads(r.stdout)
            ports = Ports((str(k), int(v)) for k, v in data["ports"].items())
            ports.lease, ports.key = str(data["lease"]), str(data["key"])
        except (ValueError, KeyError, TypeError, AttributeError):
            raise PortleaseError(
                f"portlease: allocate printed no lease: {r.stdout.strip()[:200]!r}"
            ) from None
        registry = options.get("registry")
        self._leases.append((ports.lease, None if registry is None else str(registry)))
        return ports

    def release_all(self):
        leases, self._leases = self._leases, []
        for lease, registry in reversed(leases):
            args = ["release", "--lease", lease]
            if registry is not None:
                args += ["--registry", registry]
            try:
                r = _run(self._cli, args, 60)
            except PortleaseError as err:
                warnings.warn(f"{err}; lease {lease} ends with its owner or TTL")
                continue
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
