"""`make bench`: build the bench databases, run every measurement, write the results.

    python -m bench                  # the full run (PostgreSQL + Redis), ~10 minutes
    python -m bench --reuse          # keep databases that are already seeded
    python -m bench --scale 500 --quick --output /tmp/b   # a small run

Databases (created, dropped and re-created by this command only):
- `<base>_real`: the 342 real municipalities with the demo history (seed_demo);
- `<base>_scale`: synthetic data from `seed_bench` (10,000 × 50, 180 months).
<base> is the database name of DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/nupportal_bench). Redis: REDIS_URL (default
redis://127.0.0.1:6379/12) for the cache, the Celery broker and the worker.

Every measurement runs in a subprocess (`python -m bench.measure SUITE`) with
production settings (DJANGO_DEBUG=false, a generated secret key), so one slow
or failing suite cannot disturb another. Results: bench/results.json and the
Markdown table bench/RESULTS.md (both also printed).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.demo_save import run_demo_save

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/nupportal_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"


def free_port() -> int:
    """A port nobody listens on (other servers may run on this machine)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def database_url(base: str, suffix: str) -> str:
    parts = urlsplit(base)
    name = parts.path.lstrip("/") or "nupportal_bench"
    return urlunsplit(parts._replace(path=f"/{name}_{suffix}"))


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(
        admin.replace("postgres://", "postgresql://", 1), autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def vacuum(url: str) -> None:
    """VACUUM (ANALYZE) a freshly built bench database.

    Production runs autovacuum; a bench server may not (this machine's does
    not), and a table that was just bulk-loaded has no statistics yet.
    """
    import psycopg

    started = time.monotonic()
    with psycopg.connect(
        url.replace("postgres://", "postgresql://", 1), autocommit=True
    ) as conn:
        conn.execute("VACUUM (ANALYZE)")
    log(f"  VACUUM (ANALYZE): {time.monotonic() - started:.1f} s")


def has_scores(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as conn:
            row = conn.execute("SELECT COUNT(*) FROM scoring_snapshot").fetchone()
            return bool(row and row[0])
    except Exception:
        return False


class Env:
    """The environment of every child process: production settings, bench database."""

    def __init__(self, redis_url: str, static_root: str) -> None:
        self.base = os.environ.copy()
        self.base.update(
            {
                "DJANGO_SETTINGS_MODULE": "bench.settings",
                "DJANGO_DEBUG": "false",
                "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
                "DJANGO_SECURE_SSL_REDIRECT": "false",
                "DJANGO_SECURE_COOKIES": "false",
                "DJANGO_HSTS_SECONDS": "0",
                "NUP_LOG_LEVEL": "WARNING",
                # The API's rate limit would turn wrk's load into 429s.
                "NUP_API_RATE_ANONYMOUS": "100000000/minute",
                "NUP_API_RATE_USER": "100000000/minute",
                "REDIS_URL": redis_url,
                "CELERY_BROKER_URL": redis_url,
                "BENCH_STATIC_ROOT": static_root,
                "PYTHONUNBUFFERED": "1",
            }
        )

    def for_db(self, url: str, **extra: str) -> dict[str, str]:
        return {**self.base, "DATABASE_URL": url, **extra}


def manage(env: dict[str, str], *args: str) -> None:
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    log(f"  manage.py {' '.join(args)}: {time.monotonic() - started:.1f} s")


def measure(env: dict[str, str], suite: str, *args: str, timeout: int = 900) -> dict:
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "bench.measure", suite, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if out.returncode != 0:
        log(f"  {suite} failed:\n{out.stderr[-2000:]}")
        return {"error": out.stderr[-500:]}
    log(f"  {suite}: {time.monotonic() - started:.1f} s")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_size(
    env: dict[str, str], runs: int, trend_runs: int, months: int
) -> dict[str, Any]:
    """The suites measured on one database (the trend is slow: its own run count)."""
    return {
        "recompute": measure(env, "recompute", "--runs", str(runs)),
        "trend": measure(
            env, "trend", "--runs", str(trend_runs), "--months", str(months)
        ),
        "export": measure(env, "export", "--runs", str(runs)),
        "pages": measure(env, "pages", "--runs", str(runs)),
    }


def months_since_2011() -> int:
    today = time.localtime()
    return (today.tm_year - 2011) * 12 + today.tm_mon - 1


# --- throughput ---------------------------------------------------------------------


def ensure_wrk() -> str | None:
    found = shutil.which("wrk")
    if found:
        return found
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        log("installing wrk (apt-get)")
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    return shutil.which("wrk")


def parse_wrk(text: str) -> dict[str, Any]:
    """Requests/s, latency percentiles and errors from `wrk --latency` output."""
    result: dict[str, Any] = {"errors": 0}

    def seconds(value: str) -> float:
        for unit, factor in (("us", 1e-6), ("ms", 1e-3), ("s", 1.0), ("m", 60.0)):
            if value.endswith(unit):
                return float(value[: -len(unit)]) * factor
        return float(value)

    for line in text.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            result["rps"] = float(parts[1])
        elif len(parts) == 2 and parts[0] in ("50%", "99%"):
            result[f"p{parts[0][:-1]}"] = seconds(parts[1])
        elif line.strip().startswith("Socket errors:"):
            result["errors"] += sum(
                int(p.strip(",")) for p in parts if p.strip(",").isdigit()
            )
        elif line.strip().startswith("Non-2xx or 3xx responses:"):
            result["errors"] += int(parts[-1])
        elif "requests in" in line:
            result["requests"] = int(parts[0])
    return result


def run_throughput(env: dict[str, str], static_root: str, seconds: int) -> dict:
    wrk = ensure_wrk()
    if not wrk:
        return {"skipped": "wrk not found (apt-get install wrk)"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def start() -> subprocess.Popen:
        server = subprocess.Popen(
            [
                str(gunicorn),
                "nupportal.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                os.environ.get("BENCH_WEB_WORKERS", "2"),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        for _ in range(150):
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2):
                    return server
            except urllib.error.HTTPError:  # 503: up, but a dependency is missing
                return server
            except Exception:
                time.sleep(0.2)
        return server

    def stop(server: subprocess.Popen) -> None:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    server = start()
    try:
        with urllib.request.urlopen(base + "/", timeout=60) as response:
            html = response.read()
    finally:
        stop(server)
    # A static file of the same size, served by the same gunicorn (WhiteNoise
    # indexes STATIC_ROOT when it starts, hence the restart).
    Path(static_root, "bench-overview.html").write_bytes(html)
    server = start()
    try:
        results = {}
        for name, path in (
            ("overview", "/"),
            ("static", "/static/bench-overview.html"),
            ("municipality list", "/gemeenten/"),
            ("api municipality list", "/api/v1/gemeenten"),
        ):
            subprocess.run(
                [wrk, "-t2", "-c16", "-d3s", base + path],
                capture_output=True,
                check=False,
            )  # warm-up
            out = subprocess.run(
                [wrk, "-t2", "-c16", f"-d{seconds}s", "--latency", base + path],
                capture_output=True,
                text=True,
                check=False,
            )
            results[name] = parse_wrk(out.stdout)
        ratio = results["overview"].get("rps", 0) / max(
            results["static"].get("rps", 1), 1e-9
        )
        api_ratio = results["api municipality list"].get("rps", 0) / max(
            results["municipality list"].get("rps", 1), 1e-9
        )
        return {
            "api": {
                "figure": "API municipality list vs the HTML page /gemeenten/ (wrk)",
                "page": results["municipality list"],
                "api": results["api municipality list"],
                "ratio": api_ratio,
            },
            "figure": "overview vs static file of the same size (wrk, 16 connections)",
            "bytes": len(html),
            "overview": results["overview"],
            "static": results["static"],
            "value": results["overview"].get("rps"),
            "reference": results["static"].get("rps"),
            "ratio": ratio,
            "target": "≥ 0.5, no errors",
            "passed": ratio >= 0.5
            and results["overview"]["errors"] == 0
            and results["static"]["errors"] == 0,
        }
    finally:
        stop(server)


# --- freshness ----------------------------------------------------------------------


def run_freshness(env: dict[str, str], saves: int) -> dict:
    celery = Path(sys.executable).with_name("celery")
    worker = subprocess.Popen(
        [
            str(celery),
            "-A",
            "nupportal",
            "worker",
            "--loglevel",
            "WARNING",
            "--concurrency",
            "2",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        time.sleep(5)  # the worker connects to Redis
        return measure(env, "freshness", "--saves", str(saves))
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


# --- report ---------------------------------------------------------------------------


def _fmt(value: Any, unit: str = "s") -> str:
    if value is None:
        return "–"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"
    return f"{value:,.0f} {unit}".strip()


def table(results: dict) -> str:
    lines = [
        "| figure | size | value | reference | ratio | target | pass |",
        "|---|---|---|---|---|---|---|",
    ]

    def row(size: str, r: dict, unit: str = "s") -> None:
        if not r or "error" in r or "skipped" in r:
            reason = (r or {}).get("skipped") or (r or {}).get("error", "not run")
            lines.append(
                f"| {r.get('figure', '?') if r else '?'} | {size} | {str(reason)[:80]} | | | | – |"
            )
            return
        ratio = r.get("ratio")
        lines.append(
            f"| {r['figure']} | {size} | {_fmt(r.get('value'), unit)} | "
            f"{_fmt(r.get('reference'), unit)} | "
            f"{'' if ratio is None else f'{ratio:.2f}'} | {r.get('target', '')} | "
            f"{'yes' if r.get('passed') else 'NO'} |"
        )

    for size, data in results["sizes"].items():
        recompute = data.get("recompute")
        row(size, recompute)
        cold = (recompute or {}).get("cold")
        if cold:
            lines.append(
                f"| {cold['figure']} | {size} | {_fmt(cold['value'])} | "
                f"{_fmt(cold['reference'])} | {cold['ratio']:.2f} | reported | – |"
            )
        row(size, data.get("trend"))
        export = data.get("export")
        row(size, export)
        if export and export.get("memory"):
            memory = export["memory"]
            lines.append(
                f"| export peak memory (fresh process) | {size} | "
                f"{memory['peak_rss_mb']:.0f} MB | | | < 200 MB | "
                f"{'yes' if memory['passed'] else 'NO'} |"
            )
    throughput = results.get("throughput")
    if throughput:
        row("real", throughput, unit="req/s")
        if "overview" in throughput:
            o, s = throughput["overview"], throughput["static"]
            lines.append(
                f"| latency p50 / p99 (overview; static) | real | "
                f"{_fmt(o.get('p50'))} / {_fmt(o.get('p99'))} | "
                f"{_fmt(s.get('p50'))} / {_fmt(s.get('p99'))} | | "
                f"errors {o.get('errors')} / {s.get('errors')} | |"
            )
    api = (throughput or {}).get("api")
    if api:
        lines.append(
            f"| {api['figure']} | real | {_fmt(api['api'].get('rps'), 'req/s')} | "
            f"{_fmt(api['page'].get('rps'), 'req/s')} | {api['ratio']:.2f} | "
            f"errors {api['api'].get('errors')} / {api['page'].get('errors')} | |"
        )
    fresh = results.get("freshness")
    if fresh:
        if "p95" in fresh:
            lines.append(
                f"| {fresh['figure']} | real | p95 {_fmt(fresh['p95'])} "
                f"(p50 {_fmt(fresh['p50'])}, max {_fmt(fresh['max'])}, "
                f"{fresh['saves']} saves) | | | {fresh['target']} | "
                f"{'yes' if fresh['passed'] else 'NO'} |"
            )
        else:
            row("real", fresh)
    demo = results.get("demo_save")
    if demo:
        if "p95" in demo:
            lines.append(
                f"| {demo['figure']} | demo | p95 {_fmt(demo['p95'])} "
                f"(p50 {_fmt(demo['p50'])}, max {_fmt(demo['max'])}, "
                f"{demo['saves']} saves, {len(demo['failures'])} failed; load average "
                f"{' → '.join(str(v) for v in demo.get('load_average', []))}) | | | "
                f"{demo['target']} | {'yes' if demo['passed'] else 'NO'} |"
            )
        else:
            row("demo", demo)

    sizes = list(results["sizes"])
    if not sizes:  # a run of the demo-save suite alone has no page figures
        return "\n".join(lines) + "\n"
    pages_by_size = {
        size: {
            p["page"]: p
            for p in results["sizes"][size].get("pages", {}).get("pages", [])
        }
        for size in sizes
    }
    header = " | ".join(f"queries / time ({s})" for s in sizes)
    lines += [
        "",
        f"| page | {header} | equal, ≤ 15 |",
        "|---|" + "---|" * (len(sizes) + 1),
    ]
    names = list(pages_by_size[sizes[0]]) if sizes else []
    for name in names:
        cells, counts = [], []
        for size in sizes:
            p = pages_by_size[size].get(name, {})
            counts.append(p.get("queries"))
            if p.get("error"):
                cells.append(f"error: {p['error'][:60]}")
            else:
                cells.append(
                    f"{p.get('queries')} / {_fmt(p.get('seconds'))} (HTTP {p.get('status')})"
                )
        ok = all(c is not None and c <= 15 for c in counts) and len(set(counts)) == 1
        lines.append(f"| {name} | {' | '.join(cells)} | {'yes' if ok else 'NO'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "--scale", type=int, default=10_000, help="synthetic municipalities"
    )
    parser.add_argument("--blocks", type=int, default=50)
    parser.add_argument("--months", type=int, default=180)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure")
    parser.add_argument("--reuse", action="store_true", help="keep seeded databases")
    parser.add_argument("--quick", action="store_true", help="fewer runs, shorter load")
    parser.add_argument("--wrk-seconds", type=int, default=20)
    parser.add_argument("--saves", type=int, default=50)
    parser.add_argument(
        "--only",
        default="",
        help="comma list: real,scale,throughput,freshness,demo-save",
    )
    parser.add_argument("--output", default=str(ROOT / "bench"))
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the figures of results.json that this run does not measure",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.wrk_seconds, args.saves = 2, 5, 10
    only = set(filter(None, args.only.split(",")))
    wanted = lambda part: not only or part in only  # noqa: E731

    # The demo-save suite builds its own SQLite demo; everything else needs PostgreSQL.
    needs_postgres = not only or bool(only - {"demo-save"})
    base = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE
    if needs_postgres and not base.startswith(("postgres://", "postgresql://")):
        log("make bench needs PostgreSQL: set DATABASE_URL=postgres://…")
        return 2
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS
    static_root = tempfile.mkdtemp(prefix="nup-bench-static-")
    env = Env(redis_url, static_root)
    started = time.monotonic()
    real_url, scale_url = database_url(base, "real"), database_url(base, "scale")
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "runs": args.runs,
        "sizes": {},
    }
    try:
        # Production settings use the manifest storage: pages need collectstatic.
        if needs_postgres:
            manage(env.for_db(real_url), "collectstatic", "--no-input", "-v", "0")
        if wanted("real") or wanted("throughput") or wanted("freshness"):
            e = env.for_db(real_url)
            if not (args.reuse and has_scores(real_url)):
                log(f"building {real_url.rsplit('/', 1)[1]} (342 real municipalities)")
                recreate_database(real_url)
                manage(e, "migrate", "--no-input", "-v", "0")
                manage(e, "load_reference_data")
                manage(e, "seed_demo", "--seed", "42")
                manage(e, "recompute_scores")
                manage(e, "snapshot_scores", "--since", "2011-01")
                vacuum(real_url)
            if wanted("real"):
                log("measuring real data")
                results["sizes"]["real"] = measure_size(
                    e, args.runs, max(1, args.runs // 2), months_since_2011()
                )
            if wanted("throughput"):
                log("throughput (gunicorn + wrk)")
                results["throughput"] = run_throughput(e, static_root, args.wrk_seconds)
            if wanted("freshness"):
                log("freshness (Celery worker on Redis)")
                results["freshness"] = run_freshness(e, args.saves)
        if wanted("scale"):
            e = env.for_db(scale_url)
            label = f"{args.scale}x{args.blocks}"
            if not (args.reuse and has_scores(scale_url)):
                log(
                    f"building {scale_url.rsplit('/', 1)[1]} ({label}, {args.months} months)"
                )
                recreate_database(scale_url)
                manage(e, "migrate", "--no-input", "-v", "0")
                manage(
                    e,
                    "seed_bench",
                    "--municipalities",
                    str(args.scale),
                    "--blocks",
                    str(args.blocks),
                    "--months",
                    str(args.months),
                )
                manage(e, "recompute_scores")
                vacuum(scale_url)
                # No snapshot_scores here: the trend measurement below rebuilds
                # them (before the pages are measured).
            log(f"measuring scale data ({label})")
            # The trend at scale is slow on both sides: fewer runs.
            results["sizes"][label] = measure_size(
                e, args.runs, max(1, args.runs // 3), args.months
            )
        if wanted("demo-save"):
            log(
                f"demo status saves ({args.saves}, SQLite + filesystem broker + worker)"
            )
            results["demo_save"] = run_demo_save(args.saves, log=log)
    finally:
        shutil.rmtree(static_root, ignore_errors=True)
    results["seconds"] = round(time.monotonic() - started, 1)
    previous = Path(args.output) / "results.json"
    if args.merge and previous.exists():
        old = json.loads(previous.read_text())
        for key in ("throughput", "freshness", "demo_save"):
            results.setdefault(key, old.get(key))
        for size, data in old.get("sizes", {}).items():
            results["sizes"].setdefault(size, data)
        results["seconds"] = old.get("seconds", 0) + results["seconds"]
    write(results, Path(args.output))
    return 0


def write(results: dict, output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    (output / "results.json").write_text(
        json.dumps(results, indent=2, default=str) + "\n"
    )
    text = (
        "# Benchmark results\n\n"
        f"`make bench` on {results['started']} ({results['machine']['cpus']} CPUs, "
        f"Python {results['machine']['python']}), median of {results['runs']} runs after "
        f"a warm-up, {results['seconds']:.0f} s in all. See docs/performance.md.\n\n"
        + table(results)
    )
    (output / "RESULTS.md").write_text(text)
    print(text)
