"""Chaos run: escalations and Jira replies while vendors fail and Escalink is SIGKILLed and restarted.

Usage: python benchmarks/chaos.py [--store sqlite|postgres] [--scale full|small] [--workers N] [--seed S]
                                  [--database-url URL] [--redis-url URL] [--keep] [--no-kills] [--no-faults]

1. The emulated Zendesk and Jira run as their own process (`python -m escalink.sandbox.emulators`); N fictional
   tickets are seeded there (500, or 50 with --scale small), each with a small log attachment.
2. `escalink serve` runs as its own process on a temporary SQLite file or a fresh PostgreSQL schema (dropped
   afterwards); with --workers, N `escalink worker` processes run beside it on Redis (the Redis db is flushed).
3. Faults go on for every write Escalink makes (issue create, attachment, remote link, comment, ticket
   update, attachment download): 5% 503, 3% 429 with Retry-After 1-2 s, 2% dropped connections, 1% hangs
   past Escalink's 2 s client timeout (half of those go through late).
4. The tickets are escalated, 8 at a time, with `Idempotency-Key: chaos-<ticket>`; 2,000 Jira replies (200 with
   --scale small) are posted as an engineer on the escalated issues, each followed by its signed Cloud
   comment_created webhook; 3% are never delivered (reconciliation must find them), 3% are delivered twice
   (the same delivery again, 1-10 s later). Replies on a ticket start once its escalation was acknowledged and
   the issue carrying its label exists.
   Meanwhile a killer SIGKILLs Escalink (with --workers: serve, a worker, or all) every 3-10 s and restarts
   it on the same database. Requests cut off by a death are sent again, unchanged, once it answers.
5. Faults are cleared, and the run waits until Escalink is done: `GET /api/admin/jobs` shows nothing pending or
   running and no pending inbound event, and nothing changed in either emulator for the last 13 s (two
   reconciliation passes); then it compares both emulators' state with what was sent.

The last line reads
`chaos: store S escalations N events M lost L duplicate_issues D duplicate_notes E missing_notes F dead G`
(N tickets escalated, M replies made in Jira; G is -1 when Escalink could not say). The exit status is 1 unless
L, D, E, F and G are all 0 and the run itself completed: Escalink settled, no request was given up, every planned
reply was made, and no Escalink process exited by itself. --no-kills and --no-faults help tell causes apart.
Logs of every process, both emulators' final state and every vendor call they received (jira.json, zendesk.json,
calls.json, faults.json) stay in the working directory when the run fails (or with --keep).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from bench_infra import drop_schema, pg_schema
from chaos_procs import EmulatorProcess, Escalink, base_env, flush_redis
from chaos_traffic import Escalations, Replies, Stop, settle, vendor_mark

from escalink.sandbox import chaos_cases
from escalink.sandbox.chaos_check import Expected, compare, report_lines
from escalink.sandbox.emulators import EmulatorInfo, escalink_env
from escalink.sandbox.seed import load_seed

SCALES = {"full": (500, 2000), "small": (50, 200)}
COALESCE_SECONDS, RECONCILE_SECONDS, HTTP_TIMEOUT_SECONDS = 1, 5, 2
QUIET_SECONDS = 2 * RECONCILE_SECONDS + COALESCE_SECONDS + 2
SETTLE_TIMEOUT = 300.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--scale", choices=tuple(SCALES), default="full")
    parser.add_argument("--workers", type=int, default=0, help="escalink worker processes (PostgreSQL + Redis)")
    parser.add_argument("--seed", type=int, default=1, help="seeds tickets, replies, faults and kills")
    parser.add_argument("--database-url", default=os.environ.get(
        "ESCALINK_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
        help="PostgreSQL server for --store postgres (a fresh schema is made and dropped)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15",
                        help="Redis database for --workers; it is FLUSHED first")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (logs, SQLite file)")
    parser.add_argument("--no-kills", action="store_true", help="never kill Escalink (to tell faults from deaths)")
    parser.add_argument("--no-faults", action="store_true", help="inject no vendor faults")
    args = parser.parse_args()
    if args.workers < 0:
        parser.error("--workers must be 0 or more")
    if args.workers and args.store != "postgres":
        parser.error("--workers needs --store postgres (workers and serve share the database)")
    return args


def escalink_settings(emulators: EmulatorProcess, database_url: str, args: argparse.Namespace) -> dict[str, str]:
    env = {**base_env(), **escalink_env(emulators.info)}
    env.update({
        "ESCALINK_DATABASE_URL": database_url,
        "ESCALINK_LOG_LEVEL": "WARNING",
        "ESCALINK_SYNC_COALESCE_SECONDS": str(COALESCE_SECONDS),
        "ESCALINK_SYNC_POLL_SECONDS": "0.5",
        "ESCALINK_RECONCILE_SECONDS": str(RECONCILE_SECONDS),
        "ESCALINK_HTTP_TIMEOUT_SECONDS": str(HTTP_TIMEOUT_SECONDS),
        "ESCALINK_HTTP_MAX_RETRY_WAIT_SECONDS": "10",
    })
    if args.workers:
        env.update({"ESCALINK_JOBS_BACKEND": "redis", "ESCALINK_REDIS_URL": args.redis_url})
    return env


def seed_tickets(zendesk_url: str, count: int, rng: random.Random) -> tuple[list[int], list[dict[str, Any]]]:
    """Seed the tickets in the Zendesk emulator; returns their ids and one escalation draft each."""
    seed = load_seed()
    cases = chaos_cases.tickets(count, seed, rng)
    resp = httpx.post(f"{zendesk_url}/_sandbox/tickets", json={"tickets": [c.spec for c in cases]}, timeout=60)
    resp.raise_for_status()
    created = resp.json()["tickets"]
    pairs = zip(cases, created, strict=True)
    drafts = [chaos_cases.draft(c.number, t["id"], t["attachment_ids"], seed, rng) for c, t in pairs]
    return [int(t["id"]) for t in created], drafts


def set_faults(url: str, rules: list[dict[str, Any]] | None, seed: int) -> dict[str, Any]:
    """Replace the plan (shared by both emulators), or clear it with `rules=None`; returns the plan as it was."""
    before: dict[str, Any] = httpx.get(f"{url}/_sandbox/faults", timeout=10).raise_for_status().json()
    if rules is None:
        httpx.delete(f"{url}/_sandbox/faults", timeout=10).raise_for_status()
    else:
        httpx.post(f"{url}/_sandbox/faults", json={"seed": seed, "rules": rules}, timeout=10).raise_for_status()
    return before


def killer(escalink: Escalink, stop: threading.Event, rng: random.Random, log: list[str], began: float) -> None:
    while not stop.wait(rng.uniform(3.0, 10.0)):
        what = escalink.kill_and_restart(rng)
        log.append(f"{time.monotonic() - began:6.1f} s  killed {what.strip()}")


@dataclass
class Traffic:
    """What the run sent, and how long it took."""

    escalations: Escalations
    replies: Replies
    plans: list[chaos_cases.ReplyPlan]
    kill_log: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Settled:
    """Escalink's last word on its work, and both emulators' state afterwards."""

    faults: dict[str, Any]
    jobs: dict[str, Any] = field(default_factory=dict)
    waited: float = float("nan")
    dead: int = -1  # -1: Escalink could not tell
    error: str = ""
    jira: dict[str, Any] = field(default_factory=dict)
    zendesk: dict[str, Any] = field(default_factory=dict)


def play(args: argparse.Namespace, info: EmulatorInfo, escalink: Escalink, ticket_ids: list[int],
         drafts: list[dict[str, Any]], events: int) -> Traffic:
    """Escalations, replies and kills, all at once, until every escalation and reply went through."""
    plans = chaos_cases.reply_plan(events, len(ticket_ids), random.Random(f"{args.seed}:replies"))
    escalations = Escalations(escalink.url, drafts, escalink.alive)
    replies = Replies(escalink.url, info.jira_url, info.jira_webhook_secret, plans, ticket_ids, escalations,
                      escalink.alive, random.Random(f"{args.seed}:timing"))
    traffic = Traffic(escalations, replies, plans)
    stop, began = threading.Event(), time.monotonic()
    kills = threading.Thread(target=killer, daemon=True,
                             args=(escalink, stop, random.Random(f"{args.seed}:kills"), traffic.kill_log, began))
    escalations.start()
    replies.start()
    if not args.no_kills:
        kills.start()
    while not (escalations.done() and replies.done()):
        time.sleep(5.0)
        escalink.ensure_running()
        print(f"[{time.monotonic() - began:6.1f} s] escalations acknowledged {len(escalations.acknowledged())}/"
              f"{len(drafts)}, replies made {len(replies.made)}/{events}, webhooks acknowledged "
              f"{replies.deliveries}, kills {escalink.kills}", flush=True)
    stop.set()
    if kills.is_alive():
        kills.join()
    traffic.seconds = time.monotonic() - began
    if replies.error:
        raise Stop(replies.error)
    return traffic


def wait_and_collect(info: EmulatorInfo, escalink: Escalink, ticket_ids: list[int], workdir: Path) -> Settled:
    """Clear the faults, wait for Escalink to finish its work, read both emulators (kept in `workdir`)."""
    out = Settled(faults=set_faults(info.jira_url, None, 0))
    escalink.ensure_running()
    with httpx.Client(timeout=120) as client:  # the call log of a full run is tens of thousands of calls
        try:
            out.jobs, out.waited = settle(
                escalink.url, escalink.alive, lambda: vendor_mark(client, info.zendesk_url, info.jira_url, ticket_ids),
                quiet=QUIET_SECONDS, timeout=SETTLE_TIMEOUT)
            out.dead = int(out.jobs["counts"]["dead"])
        except Stop as exc:
            out.error = str(exc)
        out.jira = client.get(f"{info.jira_url}/_sandbox/state").raise_for_status().json()
        ids = ",".join(map(str, ticket_ids))
        out.zendesk = client.get(f"{info.zendesk_url}/_sandbox/state", params={"ids": ids}).raise_for_status().json()
        calls = client.get(f"{info.jira_url}/_sandbox/calls").raise_for_status().json()
    # Both vendors' calls are in one recorder; kept with the states for looking into a failed run.
    for name, data in (("jira", out.jira), ("zendesk", out.zendesk), ("faults", out.faults), ("calls", calls)):
        (workdir / f"{name}.json").write_text(json.dumps(data))
    return out


def report(args: argparse.Namespace, traffic: Traffic, settled: Settled, escalink: Escalink) -> bool:
    """Print what happened and the verdict (its summary line last); True when the run passed."""
    sent, replies = traffic.escalations.results, traffic.replies
    expected = Expected(escalations={t: list(s.escalation_ids) for t, s in sent.items()}, replies=dict(replies.made))
    verdict = compare(expected, settled.jira, settled.zendesk, settled.dead)
    rules = settled.faults["rules"]
    failures = [f"#{s.ticket_id}: {s.failure}" for s in sent.values() if s.failure]
    repeated = sum(1 for s in sent.values() if len(s.escalation_ids) > 1)
    crashes = escalink.crashes
    deliveries = Counter(p.deliveries for p in traffic.plans)
    print(f"traffic           {traffic.seconds:.1f} s; settled {settled.waited:.1f} s later; "
          f"jobs {settled.jobs.get('counts')}, inbound {settled.jobs.get('inbound')}")
    if settled.error:
        print(f"NOT SETTLED       {settled.error}")
    print(f"faults            {sum(r['fired'] for r in rules)} of {sum(r['matched'] for r in rules)} matching "
          "vendor calls failed on purpose")
    print(f"kills             {escalink.kills} processes at {escalink.kill_events} moments; "
          f"{len(crashes)} exited by themselves{': ' + ', '.join(crashes) if crashes else ''}")
    for line in traffic.kill_log:
        print(f"                  {line}")
    print(f"escalations       {len(sent)} sent, {sum(s.attempts for s in sent.values())} requests, "
          f"{len(failures)} given up{': ' + ', '.join(failures[:5]) if failures else ''}, "
          f"{repeated} answered with more than one escalation id")
    print(f"replies           {len(replies.made)} made in Jira ({deliveries[0]} planned never delivered, "
          f"{deliveries[2]} twice, {replies.never_ready} never made: no issue), {replies.deliveries} webhooks "
          f"acknowledged, {len(replies.failures)} given up")
    for line in report_lines(verdict, store=args.store, escalations=len(sent), events=len(replies.made)):
        print(line)
    incomplete = settled.error or failures or replies.failures or replies.never_ready or crashes
    return verdict.ok and not incomplete


def run(args: argparse.Namespace, workdir: Path) -> bool:
    tickets_n, events_n = SCALES[args.scale]
    schema = None
    if args.store == "postgres":
        schema, database_url = pg_schema(args.database_url, "chaos")
    else:
        database_url = f"sqlite:///{workdir / 'escalink.db'}"
    if args.workers:
        flush_redis(args.redis_url)
    emulators = EmulatorProcess(workdir)
    escalink: Escalink | None = None
    try:
        info = emulators.info
        ticket_ids, drafts = seed_tickets(info.zendesk_url, tickets_n, random.Random(f"{args.seed}:tickets"))
        print(f"emulators         zendesk {info.zendesk_url}, jira {info.jira_url}; {len(ticket_ids)} tickets seeded")
        escalink = Escalink(escalink_settings(emulators, database_url, args), workdir, args.workers)
        escalink.start()
        print(f"escalink          {escalink.url} ({args.store}"
              + (f", {args.workers} workers on {args.redis_url}" if args.workers else "") + ")")
        if not args.no_faults:
            set_faults(info.jira_url, chaos_cases.fault_rules(hang_seconds=HTTP_TIMEOUT_SECONDS + 1.0), args.seed)
        traffic = play(args, info, escalink, ticket_ids, drafts, events_n)
        settled = wait_and_collect(info, escalink, ticket_ids, workdir)
    finally:
        if escalink is not None:
            escalink.stop()
        emulators.stop()
        if schema is not None:
            drop_schema(args.database_url, schema)
    return report(args, traffic, settled, escalink)


def main() -> None:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="escalink-chaos-"))
    ok = False
    try:
        ok = run(args, workdir)
    except Stop as exc:
        print(f"chaos run stopped: {exc}", file=sys.stderr)
    finally:
        if ok and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"logs              {workdir}", file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
