"""Processes of a chaos run: the emulators (never killed) and Escalink (serve, workers), killed and restarted.

Escalink runs as `python -m escalink.cli serve` (and `python -m escalink.cli worker` with --workers) in a
working directory of its own, so no developer .env is read; every start appends to the same log file.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from bench_infra import free_port

from escalink.sandbox.emulators import EmulatorInfo


def flush_redis(url: str) -> None:
    import redis  # only runs with --workers need it

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def stop_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGINT, grace: float = 15.0) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


class EmulatorProcess:
    """`python -m escalink.sandbox.emulators` in its own process; `info` is what it announced."""

    def __init__(self, workdir: Path) -> None:
        self.log = workdir / "emulators.log"
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "escalink.sandbox.emulators", "--flavor", "cloud"],
                stdout=subprocess.PIPE, stderr=log, cwd=workdir, start_new_session=True,
            )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()  # '' when it exits before announcing itself
        if not line.strip():
            self.proc.wait(timeout=5)
            raise SystemExit(f"the emulators did not start ({self.proc.returncode}):\n{tail(self.log)}")
        self.info = EmulatorInfo.from_line(line)

    def stop(self) -> None:
        stop_process(self.proc, signal.SIGTERM)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class Escalink:
    """`escalink serve` on a fixed port plus N `escalink worker`s, with SIGKILL and restart.

    `alive` is set while serve answers /healthz; clients wait on it after a connection error.
    """

    def __init__(self, env: dict[str, str], workdir: Path, workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "ESCALINK_PUBLIC_URL": self.url}
        self.workdir = workdir
        self.alive = threading.Event()
        self.kills = 0  # processes SIGKILLed
        self.kill_events = 0  # moments at which something was killed
        self.crashes: list[str] = []  # processes that exited without being killed
        self._lock = threading.Lock()
        self._serve: subprocess.Popen[bytes] | None = None
        self._workers: list[subprocess.Popen[bytes] | None] = [None] * workers

    def _spawn(self, args: list[str], log_name: str) -> subprocess.Popen[bytes]:
        with (self.workdir / log_name).open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "escalink.cli", *args], env=self.env, cwd=self.workdir,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )

    def _start_serve(self) -> None:
        self._serve = self._spawn(["serve", "--host", "127.0.0.1", "--port", str(self.port)], "serve.log")
        self._wait_ready(self._serve)
        self.alive.set()

    def _start_worker(self, i: int) -> None:
        self._workers[i] = self._spawn(["worker"], f"worker-{i}.log")

    def _wait_ready(self, proc: subprocess.Popen[bytes], limit: float = 90.0) -> None:
        began = time.monotonic()
        while time.monotonic() - began < limit:
            if proc.poll() is not None:
                raise SystemExit(f"escalink serve exited with {proc.returncode}:\n{tail(self.workdir / 'serve.log')}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"escalink serve did not answer within {limit:.0f} s")

    def start(self) -> None:
        with self._lock:
            self._start_serve()  # first, so its migrations are done before any worker starts
            for i in range(len(self._workers)):
                self._start_worker(i)

    def kill_and_restart(self, rng: random.Random) -> str:
        """SIGKILL serve, one worker, or everything (with workers); restart what was killed."""
        with self._lock:
            roll = rng.random() if self._workers else 0.0
            if roll < 0.5:
                serve, workers = True, []
            elif roll < 0.8:
                serve, workers = False, [rng.randrange(len(self._workers))]
            else:
                serve, workers = True, list(range(len(self._workers)))
            if serve and self._serve is not None:
                self.alive.clear()
                self._serve.kill()
                self._serve.wait()
                self.kills += 1
            for i in workers:
                proc = self._workers[i]
                if proc is not None:
                    proc.kill()
                    proc.wait()
                    self.kills += 1
            self.kill_events += 1
            time.sleep(rng.uniform(0.0, 1.0))  # clients meet a closed port for a moment
            if serve:
                self._start_serve()
            for i in workers:
                self._start_worker(i)
            return ("serve" if serve else "") + (f" workers {workers}" if workers else "")

    def ensure_running(self) -> None:
        """Restart whatever exited by itself (as a service manager would), noting it as a crash."""
        with self._lock:
            if self._serve is None or self._serve.poll() is not None:
                if self._serve is not None:
                    self.crashes.append(f"serve exited with {self._serve.returncode}")
                self.alive.clear()
                self._start_serve()
            for i, proc in enumerate(self._workers):
                if proc is None or proc.poll() is not None:
                    if proc is not None:
                        self.crashes.append(f"worker {i} exited with {proc.returncode}")
                    self._start_worker(i)

    def stop(self) -> None:
        with self._lock:
            self.alive.clear()
            for proc in [self._serve, *self._workers]:
                if proc is not None:
                    stop_process(proc)


def base_env() -> dict[str, str]:
    """The harness's environment without any ESCALINK_* variable of the caller's shell."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ESCALINK_")}
