#!/usr/bin/env python3
"""Préau's web benchmark (issue 3): reproduces the tables in BENCHMARKS.md.

    python3 bench/run.py [--rounds 3] [--seconds 10] [--connections 64] [--postgres URL]

Builds the release binaries, starts `preau demo` and the reference server (bench/reference) on
the same database, signs in as a parent of two children in two schools, then runs wrk against
(a) a static file, (b) the reference page, (c) the parent's home page and (d) sign-in, interleaved
round after round. Reports requests/s, p50/p99 latency and server CPU µs per request (from
/proc, steadier than throughput on a shared 2-core machine), medians over the rounds.
"""
import argparse, json, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time, urllib.request, urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK_US = 1_000_000 / os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def wait_up(url, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=2); return
        except Exception:
            time.sleep(0.2)
    sys.exit(f"not answering: {url}")


def wait_port(port, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close(); return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"port {port} not listening")


def cpu_ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    v = float(m.group(1)); unit = m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v


def wrk(url, seconds, connections, pid, script=None):
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        cmd[1:1] = ["-s", script]
    before = cpu_ticks(pid)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    cpu = (cpu_ticks(pid) - before) * TICK_US
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    return {"rps": rps, "p50": p50, "p99": p99, "cpu_us": cpu / max(total, 1), "errors": errors}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--postgres", help="run on this PostgreSQL database instead of SQLite")
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "preau", "-p", "preau-bench-reference"], cwd=ROOT, check=True)
    preau = os.path.join(ROOT, "target/release/preau")
    reference = os.path.join(ROOT, "target/release/preau-bench-reference")
    data = tempfile.mkdtemp(prefix="preau-bench-")
    port, ref_port = free_port(), free_port()
    env = dict(os.environ, PREAU_LOG_LEVEL="warn")
    if args.postgres:
        env["PREAU_DATABASE_URL"] = args.postgres
    db_url = args.postgres or f"sqlite://{data}/preau.sqlite"
    procs = []
    try:
        demo_out = open(os.path.join(data, "demo.out"), "w+")
        server = subprocess.Popen([preau, "demo", "--data", data, "--listen", f"127.0.0.1:{port}"], stdout=demo_out, stderr=subprocess.DEVNULL, env=env)
        procs.append(server)
        base = f"http://127.0.0.1:{port}"
        wait_up(base + "/healthz")
        demo_out.seek(0)
        table = demo_out.read()
        parent = next(l.split()[1] for l in table.splitlines() if l.startswith("National_TUT") and "deux écoles" in l)
        ref = subprocess.Popen([reference, "serve", db_url, f"127.0.0.1:{ref_port}"], stderr=subprocess.DEVNULL)
        procs.append(ref)

        # Sign in as the parent with a real form post: CSRF cookie, token, then the session cookie.
        jar = urllib.request.HTTPCookieProcessor()
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **k): return None
        opener = urllib.request.build_opener(jar, NoRedirect)
        html = opener.open(base + "/auth/login").read().decode()
        csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
        body = urllib.parse.urlencode({"csrf": csrf, "login": parent, "password": "preau-demo"}).encode()
        try:
            opener.open(base + "/auth/login", body)
        except urllib.error.HTTPError as e:
            assert e.code == 303, e.code
        cookies = {c.name: c.value for c in jar.cookiejar}
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        wait_port(ref_port)

        home_script = os.path.join(data, "home.lua")
        open(home_script, "w").write(f'wrk.headers["Cookie"] = "{cookie}"\n')
        ref_script = os.path.join(data, "ref.lua")
        open(ref_script, "w").write(f'wrk.headers["Cookie"] = "{cookie}"\n')
        login_script = os.path.join(data, "login.lua")
        login_body = urllib.parse.urlencode({"csrf": csrf, "login": parent, "password": "preau-demo"})
        open(login_script, "w").write(
            'wrk.method = "POST"\n'
            f'wrk.body = "{login_body}"\n'
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
            f'wrk.headers["Cookie"] = "preau_csrf={cookies["preau_csrf"]}"\n'
        )
        # Sanity: each target answers what it should.
        req = urllib.request.Request(base + "/", headers={"Cookie": cookie})
        page = opener.open(req).read().decode()
        assert "Mes enfants" in page, "home page is not the parent's"
        ref_page = urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{ref_port}/", headers={"Cookie": cookie})).read()
        sizes = {"home": len(page.encode()), "reference": len(ref_page)}

        targets = [
            ("a static file (/static/preau.css)", base + "/static/preau.css", server.pid, None),
            ("b reference: session + 1 read + 5 KB page", f"http://127.0.0.1:{ref_port}/", ref.pid, ref_script),
            ("c home page, parent of two children", base + "/", server.pid, home_script),
            ("d sign-in (Argon2id)", base + "/auth/login", server.pid, login_script),
        ]
        results = {name: [] for name, *_ in targets}
        for r in range(args.rounds):
            for name, url, pid, script in targets:
                seconds = args.seconds
                res = wrk(url, seconds, args.connections, pid, script)
                results[name].append(res)
                print(f"round {r + 1} {name}: {res['rps']:.0f} req/s p50 {res['p50']:.2f} ms p99 {res['p99']:.2f} ms "
                      f"{res['cpu_us']:.0f} µs CPU/req non-2xx/3xx {res['errors']}", flush=True)
        argon = subprocess.run([reference, "argon2", "5"], capture_output=True, text=True, check=True).stdout.strip()
        med = {n: {k: statistics.median(x[k] for x in rs) for k in rs[0]} for n, rs in results.items()}
        a, b, c, d = (med[n] for n, *_ in targets)
        print()
        print(f"Backend: {'PostgreSQL' if args.postgres else 'SQLite'}; {args.rounds} interleaved rounds of {args.seconds} s, "
              f"{args.connections} connections, wrk -t2 on the same 2 cores. Medians:")
        print()
        print("| target | req/s | p50 ms | p99 ms | server CPU µs/req |")
        print("|---|---|---|---|---|")
        for name, *_ in targets:
            m = med[name]
            print(f"| {name} | {m['rps']:.0f} | {m['p50']:.2f} | {m['p99']:.2f} | {m['cpu_us']:.0f} |")
        print()
        print(f"(c)/(b) = {c['rps'] / b['rps']:.0%} by throughput, {b['cpu_us'] / c['cpu_us']:.0%} by CPU per request; "
              f"(c)/(a) = {c['rps'] / a['rps']:.0%}")
        rate = float(re.search(r"([\d.]+) hashes/s", argon).group(1))
        print(f"{argon}; sign-in = {d['rps'] / rate:.0%} of that ceiling")
        print(f"page sizes: home {sizes['home']} B, reference {sizes['reference']} B (uncompressed)")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
