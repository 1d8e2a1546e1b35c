#!/usr/bin/env python3
"""Open-loop load on the console: SESSIONS sessions, each on its own keep-alive connection
with its own cookie, together asking RATE pages a second for DURATION seconds (each session
at RATE/SESSIONS a second, phases spread). A request's latency runs from the time it was due,
not from when it could be sent, so a slow answer that delays the next request counts against
the server (no coordinated omission). Half the requests are queue pages (the same filters and
pages as console.lua), half incident pages, or only queue pages with --mix queue.

With RATE 0 the load is closed loop instead: each session asks its next page as soon as the
last one is answered (latency from sending), which gives the percentiles per page kind that
wrk's single distribution does not.

Usage: console-load.py PORT COOKIES RATE DURATION TOP_ID [--mix queue|mixed]
Prints one line per page kind: requests, answers other than 200, p50, p90, p99, max (ms).
"""
import asyncio
import random
import sys
import time

QUEUES = ["/incidents", "/incidents?page=2", "/incidents?page=20", "/incidents?priority=P1",
          "/incidents?status=all", "/incidents?q=10.20.1", "/incidents?class=malicious-code%2Fmalware-distribution",
          "/incidents?segment=members&page=3"]

port, cookie_file, rate, duration, top = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
mix = sys.argv[7] if len(sys.argv) > 7 and sys.argv[6] == "--mix" else "mixed"
cookies = [line.strip() for line in open(cookie_file) if line.strip()]
results = {"queue": [], "incident": []}
errors = {"queue": 0, "incident": 0}


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    if length:
        await reader.readexactly(length)
    return status


async def session(n, start, rng):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    closed = rate == 0
    interval = 0 if closed else len(cookies) / rate
    due = start + rng.random() * interval
    k = n
    while due < start + duration:
        if closed:
            due = max(due, time.perf_counter())
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        k += 1
        if mix == "queue" or k % 2 == 0:
            kind, path = "queue", QUEUES[k % len(QUEUES)]
        else:
            kind, path = "incident", "/incidents/%d" % rng.randint(1, top)
        writer.write(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\n\r\n" % (path, cookies[n])).encode())
        await writer.drain()
        status = await read_response(reader)
        results[kind].append((time.perf_counter() - due) * 1000)
        if status != 200:
            errors[kind] += 1
        due = time.perf_counter() if closed else due + interval
    writer.close()


async def main():
    start = time.perf_counter() + 0.5
    await asyncio.gather(*(session(n, start, random.Random(n)) for n in range(len(cookies))))
    elapsed = time.perf_counter() - start
    total = sum(len(v) for v in results.values())
    asked = "as fast as answered (closed loop)" if rate == 0 else "%.0f pages/s asked" % rate
    print("%s: %d sessions, %s, %.1f pages/s answered over %.0f s" % ("closed loop" if rate == 0 else "open loop", len(cookies), asked, total / elapsed, elapsed))
    for kind, values in results.items():
        if not values:
            continue
        values.sort()
        def pct(p):
            return values[min(len(values) - 1, int(len(values) * p))]
        print("  %-8s %6d requests, %d not 200, p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms"
              % (kind, len(values), errors[kind], pct(0.5), pct(0.9), pct(0.99), values[-1]))


asyncio.run(main())
