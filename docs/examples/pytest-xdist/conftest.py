"""Ports for pytest-xdist workers from portlease: one bundle per worker process.

Each xdist worker is its own process; `--owner pid:<worker pid>` makes the lease live
exactly as long as that worker, so a worker that crashes or is killed gives its ports
back with no cleanup, and no two workers (of this run, of another run, of another
user's job on the same host) ever get the same port. The pytest plugin in python/
(`pytest_portlease`) does the same with more options; this is the whole idea in a few
lines, with nothing but the `portlease` command.
"""
import json
import os
import subprocess

import pytest


def portlease(*args: str) -> str:
    return subprocess.run(
        ["portlease", *args], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="session")
def ports():
    """WEB and API ports for this worker, held for the worker's life (released at its end)."""
    extra = ["--range", os.environ["PORTLEASE_RANGE"]] if os.environ.get("PORTLEASE_RANGE") else []
    lease = json.loads(
        portlease("allocate", "WEB", "API", "--owner", f"pid:{os.getpid()}", "--json", *extra)
    )
    yield lease["ports"]
    portlease("release", "--lease", lease["lease"])
