#!/usr/bin/env python3
"""Kiln's cluster benchmarks (issue 4), with workerd on one node as the reference where it has
one. Every node is a real `kiln serve` process on 127.0.0.1 with its own data directory:

  failover  time from kill -9 of a shard's leader to the first successful request on that
            shard (a probe POSTs to one object through another node every 10 ms), over
            --kills kills; the killed node is restarted and caught up before the next kill
  counter   one object's counter on 3 nodes (replicated 3 ways, every write committed on a
            majority): wrk through the owner and through another node, against workerd
            (local disk, one process) on the same worker in the same run
  scaling   1,000 objects in rotation on 1 node and on 3 nodes (one wrk per node, the same
            32 connections in all): requests/s and the 3-node/1-node ratio

  python3 bench/cluster.py --kiln /path/to/kiln --workerd /path/to/workerd [--only failover]

bench/run.sh's tools (wrk) are needed; bench/cluster.sh installs them and calls this.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import re
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the single-node benchmarks' helpers: Server, wrk, http)

CLUSTER_KEY = "bench-cluster-key"
ADMIN_TOKEN = "bench-admin-token"
FORM_TIMEOUT = 60.0


class Cluster:
    """`size` kiln serve nodes of the objects worker, formed with `kiln cluster init`."""

    def __init__(self, kiln, size, shards, scratch):
        self.kiln, self.size, self.shards = kiln, size, shards
        self.dir = tempfile.mkdtemp(prefix=f"kiln-cluster{size}-", dir=scratch)
        self.worker = os.path.join(self.dir, "worker")
        shutil.copytree(os.path.join(bench.WORKERS, "objects"), self.worker)
        self.http_ports = [bench.free_port() for _ in range(size)]
        self.peer_ports = [bench.free_port() for _ in range(size)]
        self.procs = {}
        try:
            for node in range(1, size + 1):
                self.start(node)
            end = time.monotonic() + FORM_TIMEOUT
            while self.cli("init", via=1) is None:
                if time.monotonic() > end:
                    raise RuntimeError(f"cluster init failed: {self.tail(1)}")
                time.sleep(0.5)
            self.wait_formed()
        except BaseException:
            self.stop()  # no node outlives a cluster that did not form
            raise

    def base(self, node):
        return f"http://127.0.0.1:{self.http_ports[node - 1]}"

    def start(self, node):
        cmd = [self.kiln, "serve", self.worker, "--node-id", str(node),
               "--http", f"127.0.0.1:{self.http_ports[node - 1]}",
               "--listen", f"127.0.0.1:{self.peer_ports[node - 1]}",
               "--data-dir", os.path.join(self.dir, f"node{node}"),
               "--cluster-key", CLUSTER_KEY, "--admin-token", ADMIN_TOKEN,
               "--shards", str(self.shards)]
        for i, port in enumerate(self.peer_ports, start=1):
            cmd += ["--peer", f"{i}=127.0.0.1:{port}"]
        log = open(os.path.join(self.dir, f"node{node}.log"), "a")
        self.procs[node] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                             env=dict(os.environ, RUST_LOG="warn"),
                                             start_new_session=True), log)

    def kill9(self, node):
        proc, log = self.procs.pop(node)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        log.close()

    def stop(self):
        for node in list(self.procs):
            proc, log = self.procs.pop(node)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(10)
            log.close()

    def pids(self):
        return [proc.pid for proc, _ in self.procs.values()]

    def tail(self, node, n=600):
        try:
            with open(os.path.join(self.dir, f"node{node}.log"), errors="replace") as f:
                return f.read()[-n:].strip()
        except OSError:
            return ""

    def cli(self, *args, via):
        p = subprocess.run(["timeout", "20", self.kiln, "cluster", *args,
                            "--node", f"127.0.0.1:{self.peer_ports[via - 1]}",
                            "--cluster-key", CLUSTER_KEY], capture_output=True, text=True)
        return p.stdout if p.returncode == 0 else None

    def status(self, via):
        """(shard, leader or None, commit, applied) rows, as node `via` sees them."""
        out = self.cli("status", via=via)
        if out is None:
            return None
        rows = []
        for line in out.splitlines():
            cells = line.split()
            if len(cells) >= 5 and cells[0].isdigit():
                leader = int(cells[1]) if cells[1].isdigit() else None
                rows.append((int(cells[0]), leader, int(cells[3]), int(cells[4])))
        return rows

    def wait_formed(self, timeout=FORM_TIMEOUT):
        """Until every shard has a live leader and every live node has applied what it led."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            views = [self.status(node) for node in self.procs]
            if all(v is not None and len(v) == self.shards for v in views):
                leaders = [row[1] for row in views[0]]
                commits = [max(v[s][2] for v in views) for s in range(self.shards)]
                caught_up = all(v[s][3] >= commits[s] for v in views for s in range(self.shards))
                if all(l in self.procs for l in leaders) and caught_up:
                    return leaders
            time.sleep(0.2)
        raise RuntimeError(f"the cluster did not form within {timeout} s")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def probe_until_success(url, started, timeout):
    """POSTs to url every 10 ms from `started` until one succeeds; the time it took (s)."""
    end = started + timeout
    while time.monotonic() < end:
        try:
            status, _ = bench.http("POST", url, timeout=2)
            if status == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.01)
    return None


def scenario_failover(kiln, scratch, kills):
    times = []
    with Cluster(kiln, 3, 1, scratch) as c:
        for i in range(kills):
            leader = c.wait_formed()[0]
            via = next(n for n in c.procs if n != leader)
            url = f"{c.base(via)}/failover"
            status, _ = bench.http("POST", url)
            if status != 200:
                raise RuntimeError(f"POST /failover through node {via} answered {status}")
            started = time.monotonic()
            c.kill9(leader)
            took = probe_until_success(url, started, 30)
            bench.log(f"  kill {i + 1}/{kills}: node {leader}, first success after "
                      f"{'-' if took is None else f'{took * 1000:.0f} ms'}")
            times.append(took)
            c.start(leader)
            c.wait_formed()
            time.sleep(1)  # let a leadership hand-back to the restarted node settle
    ok = sorted(t * 1000 for t in times if t is not None)
    if not ok:
        raise RuntimeError("no request succeeded after any kill")
    return {"kills": kills, "failed": len(times) - len(ok),
            "p50_ms": ok[len(ok) // 2], "p99_ms": ok[min(len(ok) - 1, len(ok) * 99 // 100)],
            "max_ms": ok[-1], "all_ms": [round(t) for t in ok]}


class Pids:
    """What bench.wrk needs of a server: a pid whose CPU it measures (the whole cluster's)."""

    def __init__(self, pid):
        self.pid = pid


def scenario_counter(kiln, workerd, scratch, duration):
    out = {}
    with Cluster(kiln, 3, 64, scratch) as c:
        status, _ = bench.http("POST", c.base(1) + "/hot")
        if status != 200:
            raise RuntimeError(f"POST /hot answered {status}")
        # Which node owns "hot": the one whose answer to ?started does not change when asked
        # through every node is not visible from outside, so both routes are measured: node 1
        # and node 2 (one of them may be the owner; the other forwards).
        for node in (1, 2):
            bench.wrk(Pids(c.procs[node][0].pid), c.base(node) + "/hot", "post-hot.lua",
                      duration=2)
            res = bench.wrk(Pids(c.procs[node][0].pid), c.base(node) + "/hot", "post-hot.lua",
                            duration=duration)
            out[f"kiln3_via{node}"] = res
    with bench.Server("workerd", "objects", {"workerd": workerd}, scratch) as s:
        s.wait_ready()
        bench.check_counter(s)
        bench.wrk(s, s.base + "/hot", "post-hot.lua", duration=2)
        out["workerd"] = bench.wrk(s, s.base + "/hot", "post-hot.lua", duration=duration)
    return out


def wrk_spread(c, duration):
    """wrk on every node at once, 32 connections in all, rotating over 1,000 objects."""
    per = max(1, 32 // c.size)
    procs = []
    for node in c.procs:
        cmd = ["timeout", str(duration + 30), "wrk", "-t1", f"-c{per}", f"-d{duration}s",
               "-s", os.path.join(bench.WRK, "post-rotate.lua"), c.base(node) + "/"]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True,
                                      env=dict(os.environ, BENCH_OBJECTS="1000")))
    total, errors = 0.0, 0
    for p in procs:
        text, _ = p.communicate()
        m = re.search(r"Requests/sec:\s+([\d.]+)", text)
        if not m:
            raise RuntimeError(f"wrk failed: {text[-300:]}")
        total += float(m[1])
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
        errors += int(m[1]) if m else 0
    return {"rps": total, "non_2xx": errors, "connections": per * c.size}


def scenario_scaling(kiln, scratch, duration):
    out = {}
    for size in (1, 3):
        with Cluster(kiln, size, 64, scratch) as c:
            wrk_spread(c, 2)  # creates the objects and warms up, not reported
            out[f"nodes{size}"] = wrk_spread(c, duration)
    out["ratio"] = out["nodes3"]["rps"] / out["nodes1"]["rps"]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--workerd", required=True)
    ap.add_argument("--only", default="failover,counter,scaling")
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--json", help="also write every figure to this file")
    args = ap.parse_args()
    only = set(args.only.split(","))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    scratch = tempfile.mkdtemp(prefix="kiln-cluster-bench-")
    results = {}
    try:
        if "failover" in only:
            bench.log(f"[{time.strftime('%H:%M:%S')}] failover: {args.kills} kills")
            r = results["failover"] = scenario_failover(args.kiln, scratch, args.kills)
            print(f"\n## failover (3 nodes, 1 shard; kill -9 of the leader, {r['kills']} times)\n")
            print(f"first successful request after the kill: p50 {r['p50_ms']:.0f} ms, "
                  f"p99 {r['p99_ms']:.0f} ms, max {r['max_ms']:.0f} ms; "
                  f"{r['failed']} kills never recovered within 30 s")
            print(f"all (ms): {r['all_ms']}")
        if "counter" in only:
            bench.log(f"[{time.strftime('%H:%M:%S')}] counter")
            r = results["counter"] = scenario_counter(args.kiln, args.workerd, scratch,
                                                      args.duration)
            print("\n## one object's counter: Kiln on 3 nodes (replicated) against workerd on one\n")
            print("| server | requests/s | p50 ms | p99 ms | ratio to workerd |")
            print("|---|---|---|---|---|")
            w = r["workerd"]["rps"]
            for key, name in (("kiln3_via1", "Kiln, 3 nodes, through node 1"),
                              ("kiln3_via2", "Kiln, 3 nodes, through node 2"),
                              ("workerd", "workerd, 1 process")):
                x = r[key]
                print(f"| {name} | {x['rps']:.0f} | {x['p50_ms']:.2f} | {x['p99_ms']:.2f} | "
                      f"{x['rps'] / w:.2f} |")
        if "scaling" in only:
            bench.log(f"[{time.strftime('%H:%M:%S')}] scaling")
            r = results["scaling"] = scenario_scaling(args.kiln, scratch, args.duration)
            print("\n## 1,000 objects in rotation: 1 node against 3 nodes (wrk on every node)\n")
            print(f"1 node: {r['nodes1']['rps']:.0f} requests/s; 3 nodes: "
                  f"{r['nodes3']['rps']:.0f} requests/s; ratio {r['ratio']:.2f} "
                  f"(non-2xx: {r['nodes1']['non_2xx']}, {r['nodes3']['non_2xx']})")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
