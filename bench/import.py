#!/usr/bin/env python3
"""Préau's import benchmark (issue 4): reproduces the import tables in BENCHMARKS.md.

    python3 bench/import.py [--sizes departement,mid,academie] [--postgres URL] [--onde]

Generates the synthetic territories with tests/datasets/gen_dataset.py (cached in
--cache, default /tmp/preau-datasets), builds the release binary, then for each size: a fresh
database, `preau import aaf` (first import), the same again (identical re-import), each under
/usr/bin/time for wall time and peak RSS; the phases (read, plan, apply) come from the import's
own log lines. With --onde it also imports the `departement` preset school by school from its
ONDE folders. With --postgres URL (a server URL ending in a database name the user may
drop/create), each run gets a fresh database next to it.
"""
import argparse, csv, json, os, re, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZES = {
    "departement": ["--preset", "departement"],
    "mid": ["--schools", "300"],
    "academie": ["--preset", "academie"],
}


def dataset(cache, size, fmt):
    out = os.path.join(cache, f"{size}-{fmt}")
    if not os.path.exists(os.path.join(out, "manifest.json")):
        subprocess.run(
            [sys.executable, os.path.join(ROOT, "tests", "datasets", "gen_dataset.py"), *SIZES[size],
             "--format", fmt, "--out", out],
            check=True, stdout=subprocess.DEVNULL)
    return out


def fresh_env(postgres, tag):
    data = tempfile.mkdtemp(prefix=f"preau-bench-{tag}-")
    env = dict(os.environ, PREAU_DATA_DIR=data, PREAU_LOG_LEVEL="info", PREAU_LOG_FORMAT="text", NO_COLOR="1")
    if postgres:
        base, _, _ = postgres.rpartition("/")
        name = f"bench_{tag}_{int(time.time())}"
        subprocess.run(["psql", postgres, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
        env["PREAU_DATABASE_URL"] = f"{base}/{name}"
    return env


def run(bin_, args, env):
    """Runs preau under /usr/bin/time: (wall s, peak RSS MiB, stdout, phases)."""
    start = time.time()
    p = subprocess.run(["/usr/bin/time", "-f", "RSS_KB=%M", bin_, *args], env=env,
                       capture_output=True, text=True)
    wall = time.time() - start
    if p.returncode != 0:
        sys.exit(f"preau {' '.join(args)} failed:\n{p.stdout}\n{p.stderr[-3000:]}")
    rss = int(re.search(r"RSS_KB=(\d+)", p.stderr).group(1)) / 1024
    phases = {}
    for key in ("read_ms", "snapshot_ms", "plan_ms", "apply_ms"):
        m = re.findall(rf"{key}=(\d+)", p.stderr)
        if m:
            phases[key] = int(m[-1]) / 1000
    return wall, rss, p.stdout, phases


def changes(stdout):
    m = re.search(r"Changements : (\d+)", stdout)
    return int(m.group(1)) if m else 0


def accounts(stdout):
    return sum(int(x) for x in re.findall(r"(\d+) (?:créés|inchangés)", stdout))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="departement,mid,academie")
    ap.add_argument("--postgres")
    ap.add_argument("--onde", action="store_true")
    ap.add_argument("--cache", default="/tmp/preau-datasets")
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-p", "preau"], cwd=ROOT, check=True)
    bin_ = os.path.join(ROOT, "target", "release", "preau")
    backend = "PostgreSQL" if a.postgres else "SQLite"
    print(f"| {backend} | accounts | files MB | import s | rows/s | peak RSS MiB | read / plan / apply s | re-import s | re-import RSS MiB | changes |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for size in a.sizes.split(","):
        data = dataset(a.cache, size, "aaf")
        mb = sum(os.path.getsize(os.path.join(data, "aaf", f)) for f in os.listdir(os.path.join(data, "aaf"))) / 1e6
        env = fresh_env(a.postgres, size)
        run(bin_, ["admin", "create-tenant", "--slug", "bench", "--name", "Bench", "--kind", "syndicat"], env)
        wall, rss, out, ph = run(bin_, ["import", "aaf", os.path.join(data, "aaf")], env)
        n = accounts(out)
        rows = changes(out)
        wall2, rss2, out2, _ = run(bin_, ["import", "aaf", os.path.join(data, "aaf")], env)
        phases = " / ".join(f"{ph.get(k, 0):.1f}" for k in ("read_ms", "plan_ms", "apply_ms"))
        print(f"| {size} (AAF) | {n:,} | {mb:.0f} | {wall:.1f} | {rows / wall:,.0f} | {rss:.0f} | {phases} | {wall2:.1f} | {rss2:.0f} | {changes(out2)} |", flush=True)
    if a.onde:
        data = dataset(a.cache, "departement", "onde")
        env = fresh_env(a.postgres, "onde")
        run(bin_, ["admin", "create-tenant", "--slug", "bench", "--name", "Bench", "--kind", "syndicat"], env)
        with open(os.path.join(data, "onde", "ecoles.csv"), encoding="cp1252") as f:
            schools = list(csv.DictReader(f, delimiter=";"))
        kinds = {"maternelle": "ecole_maternelle", "elementaire": "ecole_elementaire", "primaire": "ecole_primaire"}
        for s in schools:
            run(bin_, ["admin", "create-structure", "--tenant", "bench", "--kind", kinds[s["Type"]],
                       "--name", s["Nom"], "--uai", s["UAI"], "--commune", s["Commune"]], env)
        for label in ("first", "again"):
            total, peak, n, ch = 0.0, 0.0, 0, 0
            for s in schools:
                wall, rss, out, _ = run(bin_, ["import", "onde", "--structure", s["UAI"], os.path.join(data, "onde", s["UAI"])], env)
                total += wall; peak = max(peak, rss); n += accounts(out); ch += changes(out)
            print(f"| departement (ONDE, {len(schools)} schools, {label}) | {n:,} | | {total:.1f} | {ch / total:,.0f} | {peak:.0f} | | | | {ch} |", flush=True)


if __name__ == "__main__":
    main()
