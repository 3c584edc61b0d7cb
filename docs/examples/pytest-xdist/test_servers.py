"""Each test starts a real server on its worker's leased port and talks to it.

Run: python3 -m pytest -n 4 docs/examples/pytest-xdist
"""
import os
import socket
import subprocess
import sys
import time

import pytest


def serve(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise RuntimeError(f"server on {port} did not start")


@pytest.mark.parametrize("n", range(8))
def test_server_on_leased_ports(ports, n):
    web = serve(ports["WEB"])
    api = serve(ports["API"])
    try:
        for port in (ports["WEB"], ports["API"]):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        results = os.environ.get("RESULTS")
        if results:
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            with open(os.path.join(results, f"{worker}.txt"), "a") as f:
                f.write(f"{ports['WEB']} {ports['API']}\n")
    finally:
        for s in (web, api):
            s.terminate()
            s.wait()
