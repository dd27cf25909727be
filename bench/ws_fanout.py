#!/usr/bin/env python3
"""WebSocket fan-out and per-socket memory against one room object (bench/workers/objects).

Connects --clients receivers to ws://HOST:PORT/room/<name> from one asyncio process, reads the
server's resident set (VmRSS of --pid and its descendants) before connecting, once all are
connected, and after --idle seconds of silence (both Kiln and workerd evict an idle object after
10 s and keep its hibernatable sockets open; "room_recreated_after_idle" tells whether the room
object was in fact re-created after that silence). Then one more connection, the sender, sends
messages "<seq> <send time in ns>"; the room broadcasts each one to every socket it holds.

  phase "latency":    --latency-messages messages, one at a time (the next is sent once every
                      receiver has the previous one): p50/p99 delivery latency, unloaded.
  phase "throughput": --messages messages with up to --window of them in flight: deliveries per
                      second (deliveries to the receivers / time from first send to last
                      delivery) and p50/p99 delivery latency under that load.

Prints one JSON object on its last line. Everything is bounded by --timeout; a phase that does
not finish in time is reported with what it got ("error"), never extrapolated.
"""

import argparse
import asyncio
import json
import os
import resource
import sys
import time

import websockets
from websockets.asyncio.client import connect

CLK_TCK = os.sysconf("SC_CLK_TCK")


def tree(pid):
    """pid and all its descendants."""
    pids, frontier = [pid], [pid]
    while frontier:
        p = frontier.pop()
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    for c in f.read().split():
                        pids.append(int(c))
                        frontier.append(int(c))
        except OSError:
            pass
    return pids


def rss_bytes(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def cpu_seconds(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / CLK_TCK


def own_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def percentile(values, q):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


class Phase:
    def __init__(self, name, messages, window, receivers):
        self.name = name
        self.messages = messages
        self.window = asyncio.Semaphore(window)
        self.receivers = receivers
        self.counts = {}
        self.latencies_ms = []
        self.deliveries = 0
        self.first_send = None
        self.last_delivery = None
        self.done = asyncio.Event()
        self.completed = 0


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="ws://127.0.0.1:PORT/room/NAME")
    ap.add_argument("--pid", type=int, required=True, help="the server's pid, for VmRSS")
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--latency-messages", type=int, default=50)
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--window", type=int, default=16)
    ap.add_argument("--idle", type=float, default=25.0)
    ap.add_argument("--connect-concurrency", type=int, default=50)
    ap.add_argument("--timeout", type=float, default=240.0)
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    deadline = time.monotonic() + args.timeout
    out = {"clients_wanted": args.clients, "errors": []}

    def left():
        return max(1.0, deadline - time.monotonic())

    opts = dict(compression=None, ping_interval=None, open_timeout=30, close_timeout=5,
                max_size=2**20)
    out["rss_before"] = rss_bytes(args.pid)

    # Connect the receivers.
    sockets = []
    failures = []
    gate = asyncio.Semaphore(args.connect_concurrency)

    async def open_one():
        async with gate:
            try:
                sockets.append(await connect(args.url, **opts))
            except Exception as e:  # noqa: BLE001 - reported, not hidden
                failures.append(f"{type(e).__name__}: {e}")

    t0 = time.monotonic()
    try:
        await asyncio.wait_for(
            asyncio.gather(*(open_one() for _ in range(args.clients))), left())
    except asyncio.TimeoutError:
        failures.append("timed out while connecting")
    out["connect_seconds"] = time.monotonic() - t0
    connected_at_ms = time.time() * 1000
    out["clients_connected"] = len(sockets)
    if failures:
        out["errors"].append(f"{len(failures)} connections failed, first: {failures[0]}")
    out["rss_connected"] = rss_bytes(args.pid)

    await asyncio.sleep(min(args.idle, left()))
    out["rss_idle"] = rss_bytes(args.pid)
    if sockets:
        out["bytes_per_socket_connected"] = (out["rss_connected"] - out["rss_before"]) / len(sockets)
        out["bytes_per_socket_idle"] = (out["rss_idle"] - out["rss_before"]) / len(sockets)
    alive = sum(1 for ws in sockets if ws.state == websockets.protocol.State.OPEN)
    out["clients_open_after_idle"] = alive
    if not sockets:
        print(json.dumps(out))
        return

    current = {"phase": None}

    async def receive(ws):
        try:
            async for msg in ws:
                now = time.perf_counter_ns()
                ph = current["phase"]
                seq, sent = msg.split(" ", 1)
                if ph is None or not seq.startswith(ph.name[0]):
                    continue
                ph.latencies_ms.append((now - int(sent)) / 1e6)
                ph.deliveries += 1
                ph.last_delivery = now
                c = ph.counts.get(seq, 0) + 1
                ph.counts[seq] = c
                if c == ph.receivers:
                    ph.completed += 1
                    ph.window.release()
                    if ph.completed == ph.messages:
                        ph.done.set()
        except websockets.ConnectionClosed as e:
            out.setdefault("closed_during_fanout", 0)
            out["closed_during_fanout"] += 1
            out.setdefault("first_close", str(e))

    receivers = [asyncio.create_task(receive(ws)) for ws in sockets]

    try:
        sender = await asyncio.wait_for(connect(args.url, **opts), min(30, left()))
    except Exception as e:  # noqa: BLE001
        out["errors"].append(f"sender could not connect: {type(e).__name__}: {e}")
        print(json.dumps(out))
        return

    async def drain():  # the sender's own copies of the broadcast are not counted
        try:
            async for _ in sender:
                pass
        except websockets.ConnectionClosed:
            pass

    # Was the room evicted while its sockets stayed open? The sender's connection re-creates it
    # if so; either way the room answers with the time its current instance was created.
    try:
        await sender.send("started?")
        reply = await asyncio.wait_for(sender.recv(), 10)
        started = float(reply.split()[1])
        out["room_recreated_after_idle"] = started > connected_at_ms
    except Exception as e:  # noqa: BLE001
        out["errors"].append(f"'started?' got no answer: {type(e).__name__}: {e}")

    drainer = asyncio.create_task(drain())

    server_cpu0, client_cpu0 = cpu_seconds(args.pid), own_cpu()
    for name, messages, window in (("latency", args.latency_messages, 1),
                                   ("throughput", args.messages, args.window)):
        ph = Phase(name, messages, window, len(sockets))
        current["phase"] = ph
        cpu_s0, cpu_c0 = cpu_seconds(args.pid), own_cpu()

        async def send_all():
            for i in range(messages):
                await ph.window.acquire()
                now = time.perf_counter_ns()
                if ph.first_send is None:
                    ph.first_send = now
                await sender.send(f"{name[0]}{i} {now}")
            await ph.done.wait()

        res = {"messages": messages, "window": window, "receivers": len(sockets)}
        try:
            await asyncio.wait_for(send_all(), left())
        except asyncio.TimeoutError:
            res["error"] = (f"timed out: {ph.completed} of {messages} messages reached every "
                            f"receiver, {ph.deliveries} deliveries")
        except Exception as e:  # noqa: BLE001
            res["error"] = f"{type(e).__name__}: {e}"
        if ph.first_send is not None and ph.last_delivery is not None:
            elapsed = (ph.last_delivery - ph.first_send) / 1e9
            res["elapsed_s"] = elapsed
            res["deliveries"] = ph.deliveries
            res["deliveries_per_s"] = ph.deliveries / elapsed if elapsed > 0 else None
        res["complete_messages"] = ph.completed
        res["p50_ms"] = percentile(ph.latencies_ms, 0.50)
        res["p99_ms"] = percentile(ph.latencies_ms, 0.99)
        res["server_cpu_s"] = cpu_seconds(args.pid) - cpu_s0
        res["client_cpu_s"] = own_cpu() - cpu_c0
        out[name] = res
        if "error" in res:
            break
        await asyncio.sleep(0.5)  # let stragglers (duplicates would show here) arrive

    current["phase"] = None
    out["server_cpu_s"] = cpu_seconds(args.pid) - server_cpu0
    out["client_cpu_s"] = own_cpu() - client_cpu0

    async def close_all():
        await asyncio.gather(*(ws.close() for ws in sockets + [sender]), return_exceptions=True)

    try:
        await asyncio.wait_for(close_all(), 20)
    except asyncio.TimeoutError:
        out["errors"].append("closing the sockets timed out")
    for t in receivers + [drainer]:
        t.cancel()
    print(json.dumps(out))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(130)
