"""CSV import benchmark: peak memory (RSS) and time of `import-practitioners` on large files.

    .venv/bin/python bench/import_memory.py                      # 100,000 rows
    .venv/bin/python bench/import_memory.py --rows 100000 --rows 1000000
    .venv/bin/python bench/import_memory.py --rows 100000 --twice   # and a re-import (updates)

Makes the file once per size: seeds `--practitioners` demo practitioners (the demo generator)
into a scratch SQLite database, exports them with the exporter, and repeats the exported
practitioners under new emails until the file has `--rows` rows. Then imports it in a fresh
process on a fresh, migrated SQLite database, the way the command does (the file read as a
stream, one transaction), and prints that process's peak RSS (getrusage), its RSS before the
import began, and the time. Files and databases live in a temporary folder (`--keep` keeps it).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

# The project on the path, and not this folder (its queue.py would hide the standard library's).
BENCH_FOLDER = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [os.path.dirname(BENCH_FOLDER), *(p for p in sys.path if os.path.abspath(p or ".") != BENCH_FOLDER)]

from bench._common import make_app  # noqa: E402


def migrated(path: str):
    """A fresh database at path, migrated to head."""
    from flask_migrate import upgrade

    app = make_app("sqlite:///" + path)
    with app.app_context():
        upgrade()
    return app


def demo_rows(folder: str, practitioners: int) -> list[list[str]]:
    """The exporter's rows (header first) of `practitioners` demo practitioners."""
    from directory.csv_io import COLUMNS, export_rows
    from directory.demo import seed_demo

    app = migrated(os.path.join(folder, "demo.sqlite"))
    with app.app_context():
        seed_demo(count=practitioners, seed=1)
        return [COLUMNS, *export_rows()]


def write_file(path: str, rows: int, demo: list[list[str]]) -> None:
    """A CSV of exactly `rows` rows: the demo practitioners again and again under new emails."""
    header, body = demo[0], demo[1:]
    email = header.index("email")
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        written, copy = 0, 0
        while written < rows:
            for record in body:
                if written == rows:
                    break
                local, _, domain = record[email].partition("@")
                writer.writerow([*record[:email], f"{local}+{copy}@{domain}", *record[email + 1 :]])
                written += 1
            copy += 1


def peak_rss_mb(pid: int | str = "self") -> int | None:
    """A process's peak RSS in MB from /proc (VmHWM), None when it is gone or there is no /proc.

    Not getrusage in the child: a child forked from this (big) process and exec'd keeps the
    parent's ru_maxrss on Linux, which would hide the import's own figure.
    """
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024)
    except OSError:
        return None
    return None


def child(database: str, csv_path: str, imports: int) -> None:
    """Import the file (as the command does) and print JSON: peak RSS, RSS before, seconds, the report."""
    from directory.csv_io import import_stream
    from directory.csv_io.format import decoded_lines
    from directory.extensions import db

    app = make_app("sqlite:///" + database)
    with app.app_context():
        before = peak_rss_mb() or round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        results = []
        for _ in range(imports):
            started = time.perf_counter()
            with open(csv_path, "rb") as stream:
                report = import_stream(decoded_lines(stream))
            db.session.commit()
            results.append(
                {
                    "seconds": round(time.perf_counter() - started, 1),
                    "peak_rss_mb": peak_rss_mb() or round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                    "summary": report.summary(),
                }
            )
        print(json.dumps({"rss_before_mb": before, "imports": results}))


def run(args) -> None:
    folder = tempfile.mkdtemp(prefix="cst-bench-import-")
    try:
        print(f"making demo rows ({args.practitioners} practitioners) in {folder} ...", flush=True)
        demo = demo_rows(folder, args.practitioners)
        for rows in args.rows or [100_000]:
            csv_path = os.path.join(folder, f"import-{rows}.csv")
            write_file(csv_path, rows, demo)
            database = os.path.join(folder, f"import-{rows}.sqlite")
            migrated(database)
            size = os.path.getsize(csv_path) / 1024 / 1024
            command = [
                sys.executable,
                __file__,
                "--child",
                database,
                csv_path,
                "--imports",
                str(2 if args.twice else 1),
            ]
            started = time.perf_counter()
            with tempfile.TemporaryFile("w+") as out:
                process = subprocess.Popen(command, stdout=out, text=True)
                while process.poll() is None:
                    time.sleep(args.every)
                    peak = peak_rss_mb(process.pid)
                    if peak is not None:
                        print(f"    ... {time.perf_counter() - started:.0f} s: peak RSS so far {peak} MB", flush=True)
                if process.returncode:
                    raise SystemExit(f"the import of {rows} rows failed ({process.returncode})")
                out.seek(0)
                output = out.read()
            result = json.loads(output.strip().splitlines()[-1])
            for number, done in enumerate(result["imports"], start=1):
                print(
                    f"{rows:>9,} rows ({size:.0f} MB), import {number}: peak RSS {done['peak_rss_mb']} MB "
                    f"(before the import {result['rss_before_mb']} MB), {done['seconds']} s\n    {done['summary']}"
                )
            os.remove(csv_path)
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, action="append", help="Rows in the file (repeat for several sizes).")
    parser.add_argument("--practitioners", type=int, default=2000, help="Demo practitioners the file repeats.")
    parser.add_argument("--twice", action="store_true", help="Import the file a second time (updates).")
    parser.add_argument("--every", type=float, default=30, help="Seconds between peak-so-far lines.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder.")
    parser.add_argument("--child", nargs=2, metavar=("DATABASE", "CSV"), help=argparse.SUPPRESS)
    parser.add_argument("--imports", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.imports)
    else:
        run(args)


if __name__ == "__main__":
    main()
