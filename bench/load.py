"""Closed-loop HTTP load against a running server on loopback: N logged-in users for D seconds.

    python bench/load.py --base http://127.0.0.1:8077 --users 20 --duration 60 \
        --username admin --password ... /admin/fulfillment/parcel/ /admin/dashboard/stalled/

Each user logs in through the admin login form (real session and CSRF), then requests the given
paths round-robin until the time is up. Prints requests/s, p50, p95, max and errors per path and
overall. Only loopback addresses are accepted: this is a local benchmark, never a remote test.
"""

import argparse
import http.cookiejar
import ipaddress
import re
import statistics
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict


def login(base: str, username: str, password: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/admin/login/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/admin/"}
    ).encode()
    request = urllib.request.Request(f"{base}/admin/login/", data=data, headers={"Referer": f"{base}/admin/login/"})
    response = opener.open(request, timeout=30)
    if "/admin/login/" in response.geturl():
        sys.exit(f"login failed for {username}")
    return opener


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:8077")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", required=True)
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()

    host = urllib.parse.urlsplit(args.base).hostname
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        sys.exit("bench/load.py only targets loopback addresses")

    openers = [login(args.base, args.username, args.password) for _ in range(args.users)]
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    deadline = time.monotonic() + args.duration

    def user(index: int) -> None:
        opener = openers[index]
        turn = index
        while time.monotonic() < deadline:
            path = args.paths[turn % len(args.paths)]
            turn += 1
            started = time.perf_counter()
            try:
                with opener.open(args.base + path, timeout=30) as response:
                    response.read()
                    ok = response.status == 200 and "/admin/login/" not in response.geturl()
            except (urllib.error.URLError, TimeoutError, ConnectionError):
                ok = False
            elapsed = time.perf_counter() - started
            with lock:
                if ok:
                    latencies[path].append(elapsed)
                else:
                    errors[path] += 1

    threads = [threading.Thread(target=user, args=(i,)) for i in range(args.users)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started

    print(f"{args.users} users, {wall:.0f} s against {args.base}")
    print(f"{'page':<60} {'requests':>9} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'errors':>7}")
    every = []
    for path in args.paths:
        values = latencies[path]
        every += values
        print(
            f"{path:<60} {len(values):>9} {len(values) / wall:>7.1f} {statistics.median(values) * 1000 if values else 0:>8.0f}"
            f" {percentile(values, 0.95) * 1000:>8.0f} {max(values, default=0) * 1000:>8.0f} {errors[path]:>7}"
        )
    total_errors = sum(errors.values())
    print(
        f"{'ALL':<60} {len(every):>9} {len(every) / wall:>7.1f} {statistics.median(every) * 1000 if every else 0:>8.0f}"
        f" {percentile(every, 0.95) * 1000:>8.0f} {max(every, default=0) * 1000:>8.0f} {total_errors:>7}"
    )
    sys.exit(1 if total_errors else 0)


if __name__ == "__main__":
    main()
