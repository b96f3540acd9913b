"""Benchmark of the hot parsers alone (issue 5): microseconds per input line, before and after.

    python bench/parsers.py --n 1000000 [--parsers urlhaus-csv,feodo-json] [--before HEAD]
                            [--repeat 3] [--no-before]

Inputs come from ../shared/bench/gen_feed.py (--seed 42): its URLhaus country-feed CSV and its
Feodo JSON; the Feodo CSV, Spamhaus DROP, Shadowserver scan_http and generic CSV inputs are
written from the same records, in each feed's real layout, into a temporary folder.

"Before" is the parser code of a git revision (``--before``, default HEAD) exported with
``git archive`` into a temporary folder (the working tree is not touched); "after" is the
working tree. Each side runs in its own interpreter and measures the processor time of reading
all of ``parser.items(path)`` (keeping the last BATCH items, as the pipeline holds a batch);
rounds alternate the sides and each keeps its best of ``--repeat``. In an untimed pass, a digest
of every item's fields, so the two
sides are shown to produce the same items on the whole input, not only on the test samples.

The last line printed is one JSON object:
{"n", "before_rev", "parsers": {name: {"lines", "items", "before_us_per_line",
"after_us_per_line", "speedup", "same_output"}}}.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = Path(os.environ.get("CERTHUB_GEN_FEED", "/work/shared/bench/gen_feed.py"))
if not GENERATOR.exists():
    GENERATOR = ROOT.parent / "shared" / "bench" / "gen_feed.py"

PARSERS = ("urlhaus-csv", "feodo-json", "feodo-csv", "spamhaus-drop", "shadowserver-csv",
           "generic-csv")
SHADOWSERVER_HEADER = ("timestamp", "ip", "protocol", "port", "hostname", "tag", "asn", "geo",
                       "region", "city", "naics", "sic", "http", "http_code", "server")
GENERIC_PARAMS = {"columns": {"value": "address", "port": "port", "time": "seen",
                              "country": "cc", "asn": "asn"},
                  "value_type": "ipv4", "extra_columns": ["malware"], "delimiter": "\\t"}
# Items are consumed as the pipeline does, a batch held at a time (not a list of the whole
# input: the garbage collector's cost would then grow with n and dwarf the parsing).
BATCH = 10_000
FIELDS = ("line", "raw", "value", "value_type", "ip", "port", "asn", "country", "observed",
          "taxonomy", "type", "extra")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200_000, help="lines per generated input")
    parser.add_argument("--parsers", default=",".join(PARSERS))
    parser.add_argument("--before", default="HEAD", help="git revision of the 'before' code")
    parser.add_argument("--no-before", action="store_true", help="time the working tree only")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: one side, one source
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--digest", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    names = [name for name in args.parsers.split(",") if name]
    if args.measure:
        print(json.dumps(measure(Path(args.workdir), names, digest=args.digest)))
        return

    workdir = Path(tempfile.mkdtemp(prefix="certhub-bench-parsers-"))
    try:
        compare(args, names, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def compare(args: argparse.Namespace, names: list[str], workdir: Path) -> None:
    lines = write_inputs(workdir, args.n)
    sources = {"after": ROOT / "src"}
    if not args.no_before:
        exported = workdir / "before"
        exported.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.before, "src"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(exported)], input=archive, check=True)
        sources["before"] = exported / "src"
    # Rounds alternate the two sides, so that a busy neighbour on the machine slows both alike;
    # each side keeps its best round. The first round also digests the items.
    results: dict[str, dict] = {}
    for round_number in range(args.repeat):
        for side, source in sources.items():
            measured = run_side(source, workdir, names, digest=round_number == 0)
            for name, figures in measured.items():
                kept = results.setdefault(side, {}).setdefault(name, figures)
                kept["seconds"] = min(kept["seconds"], figures["seconds"])
    after, before = results["after"], results.get("before")
    report = {}
    for name in names:
        figures = {"lines": lines[name], "items": after[name]["items"],
                   "after_us_per_line": round(after[name]["seconds"] / lines[name] * 1e6, 3)}
        if before is not None:
            figures["before_us_per_line"] = round(before[name]["seconds"] / lines[name] * 1e6, 3)
            figures["speedup"] = round(before[name]["seconds"] / after[name]["seconds"], 2)
            figures["same_output"] = before[name]["digest"] == after[name]["digest"]
        report[name] = figures
        print(f"{name:18} {json.dumps(figures)}", file=sys.stderr)
    print(json.dumps({"n": args.n, "before_rev": None if args.no_before else args.before,
                      "parsers": report}))


def run_side(source: Path, workdir: Path, names: list[str], *, digest: bool) -> dict:
    env = {**os.environ, "PYTHONPATH": str(source), "CERTHUB_DATA_DIR": str(workdir / "data"),
           "DJANGO_SETTINGS_MODULE": "certhub.config.settings"}
    env.pop("DATABASE_URL", None)  # parsers never touch the database
    command = [sys.executable, __file__, "--measure", "1", "--workdir", str(workdir),
               "--parsers", ",".join(names), *(["--digest"] if digest else [])]
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(workdir: Path, names: list[str], *, digest: bool) -> dict:
    """In the child interpreter: the processor time of each parser (the machine may be shared:
    time waiting for a processor is not the parser's), then a digest of its items (untimed)."""
    import django

    django.setup()
    from certhub.feeds.connectors import parsers

    results = {}
    for name in names:
        path, params = input_for(workdir, name)
        parser = parsers.get(name)(**params)
        started = time.process_time()
        deque(parser.items(path), maxlen=BATCH)
        results[name] = {"seconds": time.process_time() - started}
        if digest:
            results[name]["items"], results[name]["digest"] = item_digest(parser.items(path))
    return results


def item_digest(items) -> tuple[int, str]:
    hashed, count = hashlib.sha256(), 0
    for item in items:
        count += 1
        if type(item).__name__ == "Bad":
            fields = ("bad", item.line, item.reason, item.raw)
        else:
            fields = tuple(getattr(item, field) for field in FIELDS)
        hashed.update(repr(fields).encode())
    return count, hashed.hexdigest()


def input_for(workdir: Path, name: str) -> tuple[Path, dict]:
    files = {"urlhaus-csv": "urlhaus.csv", "feodo-json": "feodo.json", "feodo-csv": "feodo.csv",
             "spamhaus-drop": "drop.txt", "shadowserver-csv": "2025-03-02-scan_http-bench.csv",
             "generic-csv": "generic.tsv"}
    return workdir / files[name], GENERIC_PARAMS if name == "generic-csv" else {}


def write_inputs(workdir: Path, n: int) -> dict[str, int]:
    """Every input, and its number of physical lines (the per-line figures divide by it)."""
    subprocess.run([sys.executable, str(GENERATOR), "--lines", str(n), "--seed", "42",
                    "--out", str(workdir / "urlhaus.csv"), "--feodo-json",
                    str(workdir / "feodo.json")], check=True, capture_output=True)
    records = json.loads((workdir / "feodo.json").read_text())
    write_lines(workdir / "feodo.csv", [
        "#" * 64, "# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)", "#",
        '"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"',
        *(quoted(r["first_seen"], r["ip_address"], r["port"], r["status"], r["last_online"],
                 r["malware"]) for r in records), "# END"])
    write_lines(workdir / "drop.txt", [
        "; Spamhaus DROP List", "; https://www.spamhaus.org/drop/drop.txt",
        *(f"{r['ip_address'].rpartition('.')[0]}.0/24 ; SBL{100000 + number}"
          for number, r in enumerate(records))])
    write_lines(workdir / "2025-03-02-scan_http-bench.csv", [
        quoted(*SHADOWSERVER_HEADER),
        *(f'"{r["first_seen"]}","{r["ip_address"]}","tcp",{r["port"]},,"http",'
          f'{r["as_number"]},"{r["country"]}","REGION","CITY",517311,0,"HTTP/1.1",200,'
          f'"nginx"' for r in records)])
    write_lines(workdir / "generic.tsv", [
        "seen\taddress\tport\tasn\tcc\tmalware",
        *(f"{r['first_seen']}\t{r['ip_address']}\t{r['port']}\tAS{r['as_number']}\t"
          f"{r['country']}\t{r['malware']}" for r in records)])
    text_lines = {name: sum(1 for _ in (workdir / input_for(workdir, name)[0].name).open("rb"))
                  for name in PARSERS if name != "feodo-json"}
    # Feodo JSON is one physical line: count its elements instead.
    return {**text_lines, "feodo-json": len(records)}


def quoted(*values) -> str:
    return ",".join(f'"{value}"' for value in values)


def write_lines(path: Path, lines: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        for line in lines:
            handle.write(line + "\n")


if __name__ == "__main__":
    main()
