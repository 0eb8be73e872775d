#!/usr/bin/env python3
"""Préau's messaging benchmark (issue 5): reproduces the messagerie tables in BENCHMARKS.md.

    python3 bench/messaging.py [--postgres URL] [--rounds 3] [--seconds 10] [--connections 64]

On the `departement` dataset (tests/datasets/gen_dataset.py, AAF format, cached in
/tmp/preau-datasets): a fresh database, `preau import aaf` (which computes who may write to
whom), then
- `preau admin recompute-rules`: every structure's reach rebuilt, timed;
- `preau admin reach --repeat 300` for the busiest accounts (the directeur and a teacher of the
  largest school, a parent with children in two schools, the IEN when the dataset has one);
- `preau serve`: the directeur writes to all the families of the school (timed POST), 30 times,
  so that a parent's inbox holds 30 messages; then wrk on that parent's inbox, interleaved
  with a static file and the reference page (session + one read + render) as ceilings.
With --postgres URL (a server URL ending in a database name the user may create databases
next to), the run uses a fresh PostgreSQL database.
"""
import argparse, os, re, sqlite3, statistics, subprocess, sys, tempfile, time, urllib.parse, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import free_port, wait_up, wait_port, wrk  # noqa: E402
from importlib import import_module  # noqa: E402

imp = import_module("import")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "Mot-de-passe-bench-2026!"


def query(env, data, sql):
    url = env.get("PREAU_DATABASE_URL")
    if url:
        out = subprocess.run(["psql", url, "-At", "-F", "\t", "-c", sql], capture_output=True, text=True, check=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]
    con = sqlite3.connect(os.path.join(data, "preau.sqlite"))
    return [[str(x) for x in row] for row in con.execute(sql).fetchall()]


def sqlite_uuid(env, expr):
    # SQLite stores UUIDs as 16-byte blobs; PostgreSQL as uuid.
    return expr if env.get("PREAU_DATABASE_URL") else f"lower(hex({expr}))"


def as_uuid(text):
    t = text.replace("-", "")
    return f"{t[0:8]}-{t[8:12]}-{t[12:16]}-{t[16:20]}-{t[20:32]}"


class Browser:
    def __init__(self, base):
        self.base = base
        self.jar = urllib.request.HTTPCookieProcessor()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **k):
                return None

        self.opener = urllib.request.build_opener(self.jar, NoRedirect)

    def get(self, path):
        return self.opener.open(self.base + path).read().decode()

    def post(self, path, fields):
        body = urllib.parse.urlencode(fields, doseq=True).encode()
        req = urllib.request.Request(self.base + path, body, headers={"Origin": self.base})
        try:
            return 200, self.opener.open(req).read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def csrf(self, path):
        return re.search(r'name="csrf" value="([^"]+)"', self.get(path)).group(1)

    def cookie(self):
        return "; ".join(f"{c.name}={c.value}" for c in self.jar.cookiejar)


def activate(bin_, env, base, login):
    out = subprocess.run([bin_, "admin", "activation-code", "--login", login], env=env, capture_output=True, text=True, check=True).stdout
    code = re.search(r"code d'activation : (\S+)", out).group(1)
    b = Browser(base)
    csrf = b.csrf("/auth/activate")
    status, page = b.post("/auth/activate", {"csrf": csrf, "login": login, "code": code})
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    status, _ = b.post("/auth/activate/password", {"csrf": csrf, "login": login, "code": code, "username": login,
                                                    "password": PASSWORD, "password_confirm": PASSWORD, "charter": "yes"})
    assert status in (200, 303), status
    b = Browser(base)
    csrf = b.csrf("/auth/login")
    status, _ = b.post("/auth/login", {"csrf": csrf, "login": login, "password": PASSWORD})
    assert status == 303, f"sign-in of {login}: {status}"
    return b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--postgres")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--cache", default="/tmp/preau-datasets")
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    if not a.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "preau", "-p", "preau-bench-reference"], cwd=ROOT, check=True)
    bin_ = os.path.join(ROOT, "target", "release", "preau")
    reference = os.path.join(ROOT, "target", "release", "preau-bench-reference")
    data = imp.dataset(a.cache, "departement", "aaf")
    env = imp.fresh_env(a.postgres, "messaging")
    env["PREAU_LOG_LEVEL"] = "warn"
    work = env["PREAU_DATA_DIR"]
    subprocess.run([bin_, "admin", "create-tenant", "--slug", "bench", "--name", "Bench", "--kind", "syndicat"], env=env, check=True, capture_output=True)
    start = time.time()
    subprocess.run([bin_, "import", "aaf", os.path.join(data, "aaf")], env=env, check=True, capture_output=True)
    print(f"import (departement, AAF, rules included): {time.time() - start:.1f} s")
    out = subprocess.run([bin_, "admin", "recompute-rules", "--tenant", "bench"], env=env, check=True, capture_output=True, text=True).stdout.strip()
    print(out)
    reach_rows = query(env, work, "SELECT COUNT(*) FROM group_reach")[0][0]
    print(f"group_reach rows: {reach_rows}")

    u = lambda col: sqlite_uuid(env, col)  # noqa: E731
    school = query(env, work, f"SELECT {u('structure_id')}, COUNT(*) AS n FROM user_profiles WHERE profile = 'National_ELV' "
                              "GROUP BY structure_id ORDER BY n DESC LIMIT 1")[0]
    school_id, pupils = school[0], int(school[1])
    sid = f"'{as_uuid(school_id)}'" if a.postgres else f"X'{school_id}'"
    directeur = query(env, work, f"SELECT u.login FROM users u JOIN user_functions f ON f.user_id = u.id "
                                 f"WHERE f.function = 'directeur' AND f.structure_id = {sid} LIMIT 1")[0][0]
    teacher = query(env, work, f"SELECT u.login FROM users u JOIN user_profiles p ON p.user_id = u.id "
                               f"WHERE p.profile = 'National_ENS' AND p.structure_id = {sid} AND u.login <> '{directeur}' LIMIT 1")[0][0]
    parent = query(env, work, f"SELECT u.login FROM users u JOIN user_profiles p ON p.user_id = u.id "
                              f"WHERE p.profile = 'National_TUT' AND p.user_id IN (SELECT user_id FROM user_profiles WHERE profile = 'National_TUT' "
                              f"GROUP BY user_id HAVING COUNT(*) > 1) AND p.structure_id = {sid} LIMIT 1")
    parent = parent[0][0] if parent else query(env, work, f"SELECT u.login FROM users u JOIN user_profiles p ON p.user_id = u.id "
                                                          f"WHERE p.profile = 'National_TUT' AND p.structure_id = {sid} LIMIT 1")[0][0]
    ien = query(env, work, "SELECT u.login FROM users u JOIN user_profiles p ON p.user_id = u.id WHERE p.profile = 'National_ACA' LIMIT 1")
    who = [("directeur", directeur), ("teacher", teacher), ("parent", parent)] + ([("IEN", ien[0][0])] if ien else [])
    print(f"largest school: {pupils} pupils")
    for label, login in who:
        out = subprocess.run([bin_, "admin", "reach", "--login", login, "--repeat", "300"], env=env, check=True, capture_output=True, text=True).stdout.strip()
        print(f"visibles, {label}: {out}")

    port, ref_port = free_port(), free_port()
    env_serve = dict(env, PREAU_LISTEN=f"127.0.0.1:{port}")
    server = subprocess.Popen([bin_, "serve"], env=env_serve, stderr=subprocess.DEVNULL)
    db_url = env.get("PREAU_DATABASE_URL") or f"sqlite://{work}/preau.sqlite"
    ref = subprocess.Popen([reference, "serve", db_url, f"127.0.0.1:{ref_port}"], stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_up(base + "/healthz")
        wait_port(ref_port)
        d = activate(bin_, env, base, directeur)
        p = activate(bin_, env, base, parent)
        families = query(env, work, f"SELECT {u('id')} FROM groups WHERE structure_id = {sid} AND kind = 'profile' AND profile = 'National_TUT'")[0][0]
        group = f"g:{as_uuid(families)}"
        times = []
        for i in range(30):
            csrf = d.csrf("/messages/nouveau")
            t0 = time.time()
            status, _ = d.post("/messages/nouveau", {"csrf": csrf, "to": group, "subject": f"Information {i}",
                                                     "body": "Réunion des parents jeudi à 18 h.", "action": "send"})
            times.append(time.time() - t0)
            assert status in (200, 303), status
        delivered = query(env, work, "SELECT COUNT(*) FROM message_recipients")[0][0]
        per = int(delivered) // 30
        print(f"send to all the school's families ({per} people): median {statistics.median(times) * 1000:.0f} ms, "
              f"max {max(times) * 1000:.0f} ms over 30 sends")
        cookie = p.cookie()
        inbox = p.get("/messages")
        assert "Information 29" in inbox, "the parent's inbox lacks the messages"
        script = os.path.join(work, "inbox.lua")
        open(script, "w").write(f'wrk.headers["Cookie"] = "{cookie}"\n')
        targets = [
            ("a static file", base + "/static/preau.css", server.pid, None),
            ("b reference: session + 1 read + 5 KB page", f"http://127.0.0.1:{ref_port}/", ref.pid, script),
            ("c parent's inbox (30 messages)", base + "/messages", server.pid, script),
        ]
        results = {name: [] for name, *_ in targets}
        for r in range(a.rounds):
            for name, url, pid, scr in targets:
                res = wrk(url, a.seconds, a.connections, pid, scr)
                results[name].append(res)
                print(f"round {r + 1} {name}: {res['rps']:.0f} req/s p50 {res['p50']:.2f} ms p99 {res['p99']:.2f} ms "
                      f"{res['cpu_us']:.0f} µs CPU/req non-2xx/3xx {res['errors']}", flush=True)
        med = {n: {k: statistics.median(x[k] for x in rs) for k in rs[0]} for n, rs in results.items()}
        print()
        print("| target | req/s | p50 ms | p99 ms | server CPU µs/req |")
        print("|---|---|---|---|---|")
        for name, *_ in targets:
            m = med[name]
            print(f"| {name} | {m['rps']:.0f} | {m['p50']:.2f} | {m['p99']:.2f} | {m['cpu_us']:.0f} |")
        b, c = med[targets[1][0]], med[targets[2][0]]
        print(f"\ninbox / reference = {c['rps'] / b['rps']:.0%} by throughput, {b['cpu_us'] / c['cpu_us']:.0%} by CPU per request; "
              f"inbox page {len(inbox.encode())} B")
    finally:
        for proc in (server, ref):
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
