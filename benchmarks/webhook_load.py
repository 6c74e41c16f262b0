"""Signed Jira comment webhooks at a steady rate against a real `escalink serve`, on loopback.

Usage: python benchmarks/webhook_load.py [--rate 200] [--seconds 20] [--concurrency 64]
                                         [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Escalink runs as its own process (`python -m escalink.cli serve`) on a free 127.0.0.1 port, with a fresh
SQLite file in a temporary directory (or, with --database-url, a fresh PostgreSQL schema dropped afterwards),
the background processor off (ESCALINK_SYNC_POLL_SECONDS=0) and vendor URLs on loopback ports nothing listens
on: the webhook path never calls a vendor, so nothing would be reached anyway.

The load is open-loop: request i is due at start + i/rate whether or not earlier answers came back, and its
latency is counted from that due time, so a slow server cannot hide its backlog by slowing the sender down.
`--concurrency` caps open connections (requests beyond it wait for one, and that wait counts).
Afterwards every acknowledged delivery id is looked up in `inbound_events`.
The last line reads `webhook-load: rate R/s p50 X ms p99 Y ms lost Z`, where R is acknowledgements per second
and lost counts deliveries answered 200 yet absent from the store. Before it, `server cpu` is the CPU time
(user + system, all threads) the server process spent while the load ran, per scheduled delivery: the sender
runs on the same machine, so that figure shows what the server costs apart from it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from bench_infra import drop_schema, free_port, pg_schema
from sqlalchemy import create_engine, text

from escalink.adapters.jira.webhook import DELIVERY_HEADER
from escalink.sandbox.replies import SignedWebhook, jira_comment_webhook

SECRET = "bench-jira-webhook-secret"
ISSUES = 50  # deliveries are spread over this many ESCA issues, as replies on many escalations would be
REQUEST_TIMEOUT = 10.0


@dataclass
class Outcome:
    """What one scheduled delivery got: status (0 for a transport error) and timings in seconds."""

    delivery_id: str
    due: float
    began: float = 0.0  # the sender got to it (late only when the sender itself is starved of CPU)
    sent: float = 0.0  # a connection was free and the request went out
    done: float = 0.0
    status: int = 0
    error: str = ""


@dataclass
class Run:
    outcomes: list[Outcome] = field(default_factory=list)
    start: float = 0.0
    end: float = 0.0
    server_cpu: float | None = None  # seconds, while the load ran (None where /proc is not there)


def start_server(database_url: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESCALINK_")}
    env.update({
        "ESCALINK_DATABASE_URL": database_url,
        "ESCALINK_JIRA_WEBHOOK_SECRET": SECRET,
        "ESCALINK_SYNC_POLL_SECONDS": "0",
        # Valid settings pointing where nothing listens: a vendor call would fail loudly, not leave the host.
        "ESCALINK_ZENDESK_URL": f"http://127.0.0.1:{free_port()}",
        "ESCALINK_ZENDESK_EMAIL": "bench@example.com",
        "ESCALINK_ZENDESK_API_TOKEN": "unused",
        "ESCALINK_JIRA_URL": f"http://127.0.0.1:{free_port()}",
        "ESCALINK_JIRA_EMAIL": "bench@example.com",
        "ESCALINK_JIRA_API_TOKEN": "unused",
    })
    log_path = workdir / "server.log"
    with log_path.open("wb") as log_file:
        # cwd is the temporary directory so no .env of a developer's checkout is read.
        proc = subprocess.Popen(
            [sys.executable, "-m", "escalink.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, cwd=workdir, stdout=log_file, stderr=subprocess.STDOUT,
        )
    return proc, f"http://127.0.0.1:{port}", log_path


def wait_ready(proc: subprocess.Popen[bytes], url: str, log_path: Path, limit: float = 60.0) -> float:
    began = time.perf_counter()
    while time.perf_counter() - began < limit:
        if proc.poll() is not None:
            raise SystemExit(f"escalink serve exited with {proc.returncode}:\n{log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return time.perf_counter() - began
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"escalink serve did not answer within {limit:.0f} s")


def process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a process so far, from /proc (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def build_hooks(count: int) -> list[SignedWebhook]:
    """Every delivery signed in advance, so the sender spends its time sending."""
    hooks = []
    for i in range(count):
        n = 1001 + i % ISSUES
        hooks.append(jira_comment_webhook(
            issue_id=str(10000 + n), issue_key=f"ESCA-{n}", secret=SECRET,
            text=f"Checked the logs for this one; a fix is scheduled for the next release (update {i}).",
            delivery_id=str(uuid.uuid4()),
        ))
    return hooks


async def send_one(client: httpx.AsyncClient, gate: asyncio.Semaphore, hook: SignedWebhook, out: Outcome) -> None:
    # Waiting here (a cheap FIFO) rather than in httpx's pool, whose queue costs the sender CPU per
    # waiting request on every release once a backlog builds; the wait still counts from the due time.
    out.began = time.perf_counter()
    async with gate:
        await _post(client, hook, out)


async def _post(client: httpx.AsyncClient, hook: SignedWebhook, out: Outcome) -> None:
    out.sent = time.perf_counter()
    try:
        resp = await client.post(hook.path, content=hook.body, headers=hook.headers)
        out.status = resp.status_code
        if resp.status_code != 200:
            out.error = f"HTTP {resp.status_code}"
    except httpx.HTTPError as exc:
        out.error = type(exc).__name__
    out.done = time.perf_counter()


async def drive(url: str, hooks: list[SignedWebhook], rate: float, concurrency: int, grace: float) -> Run:
    run = Run()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    timeout = httpx.Timeout(REQUEST_TIMEOUT, pool=REQUEST_TIMEOUT)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout) as client:
        tasks = []
        gate = asyncio.Semaphore(concurrency)
        run.start = time.perf_counter() + 0.05
        for i, hook in enumerate(hooks):
            due = run.start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            out = Outcome(hook.headers[DELIVERY_HEADER], due)
            run.outcomes.append(out)
            tasks.append(asyncio.create_task(send_one(client, gate, hook, out)))
        # Bounded in time too: whatever has not answered after the grace period counts as an error.
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        for out in run.outcomes:
            if not out.done:
                out.error = out.error or "no answer in time"
                out.status = 0
    run.end = max((o.done for o in run.outcomes if o.done), default=time.perf_counter())
    return run


def stored_ids(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT delivery_id FROM inbound_events WHERE source = 'jira'"))
            return {r[0] for r in rows}
    finally:
        engine.dispose()


def pct(sorted_ms: list[float], p: float) -> float:
    if not sorted_ms:
        return float("nan")
    idx = min(len(sorted_ms) - 1, max(0, round(p / 100 * len(sorted_ms) + 0.5) - 1))
    return sorted_ms[idx]


def report(run: Run, stored: set[str], rate: float, seconds: float) -> None:
    acked = [o for o in run.outcomes if o.status == 200]
    errors: dict[str, int] = {}
    for o in run.outcomes:
        if o.status != 200:
            errors[o.error or f"HTTP {o.status}"] = errors.get(o.error or f"HTTP {o.status}", 0) + 1
    lat = sorted((o.done - o.due) * 1000 for o in acked)
    svc = sorted((o.done - o.sent) * 1000 for o in acked)
    lag = max(((o.began - o.due) * 1000 for o in run.outcomes if o.began), default=0.0)
    sent_window = max((o.began for o in run.outcomes if o.began), default=run.start) - run.start
    achieved = len(acked) / (run.end - run.start) if run.end > run.start else 0.0
    lost = len({o.delivery_id for o in acked} - stored)
    print(f"target            {rate:.0f} requests/s for {seconds:g} s = {len(run.outcomes)} deliveries")
    sent_rate = len(run.outcomes) / max(sent_window, 1e-9)
    print(f"scheduled         {len(run.outcomes)} in {sent_window:.2f} s ({sent_rate:.1f}/s),"
          f" sender lag max {lag:.1f} ms")
    print(f"acknowledged 200  {len(acked)} in {run.end - run.start:.2f} s = {achieved:.1f}/s")
    print(f"ack latency (ms, from due time)   p50 {pct(lat, 50):.1f}  p90 {pct(lat, 90):.1f}"
          f"  p99 {pct(lat, 99):.1f}  max {lat[-1] if lat else float('nan'):.1f}")
    print(f"ack latency (ms, on the wire)    p50 {pct(svc, 50):.1f}  p90 {pct(svc, 90):.1f}"
          f"  p99 {pct(svc, 99):.1f}  max {svc[-1] if svc else float('nan'):.1f}")
    print(f"errors            {sum(errors.values())}" + "".join(f"  {k}: {v}" for k, v in sorted(errors.items())))
    print(f"stored rows       {len(stored)} (acknowledged but missing: {lost})")
    if run.server_cpu is not None:
        print(f"server cpu        {run.server_cpu:.2f} s = {run.server_cpu / len(run.outcomes) * 1000:.2f} ms"
              " per delivery")
    print(f"webhook-load: rate {achieved:.1f}/s p50 {pct(lat, 50):.1f} ms p99 {pct(lat, 99):.1f} ms lost {lost}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second (default 200)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to send (default 20)")
    parser.add_argument("--concurrency", type=int, default=64, help="most connections open at once (default 64)")
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL to run against (a fresh schema is made and dropped); SQLite otherwise")
    args = parser.parse_args()
    if args.rate <= 0 or args.seconds <= 0 or args.concurrency <= 0:
        parser.error("--rate, --seconds and --concurrency must be positive")
    count = max(1, int(args.rate * args.seconds))
    hooks = build_hooks(count)
    # The sender's own set-up (imports, signed deliveries) leaves the collector's view: a full collection
    # over it stalls the sender for ~100 ms mid-run, and those late sends would count as server latency.
    gc.collect()
    gc.freeze()
    with tempfile.TemporaryDirectory(prefix="escalink-webhook-load-") as tmp:
        workdir = Path(tmp)
        schema = None
        if args.database_url:
            schema, database_url = pg_schema(args.database_url, "bench")
        else:
            database_url = f"sqlite:///{workdir / 'escalink.db'}"
        try:
            proc, url, log_path = start_server(database_url, workdir)
            try:
                ready = wait_ready(proc, url, log_path)
                engine = "postgresql" if schema else "sqlite"
                print(f"escalink serve    {url} ({engine}), answered after {ready:.1f} s")
                cpu_before = process_cpu(proc.pid)
                run = asyncio.run(drive(url, hooks, args.rate, args.concurrency, grace=REQUEST_TIMEOUT + 5))
                cpu_after = process_cpu(proc.pid)
                if cpu_before is not None and cpu_after is not None:
                    run.server_cpu = cpu_after - cpu_before
            finally:
                stop_server(proc)
            stored = stored_ids(database_url)
        finally:
            if schema:
                drop_schema(args.database_url, schema)
    report(run, stored, args.rate, args.seconds)


if __name__ == "__main__":
    main()
