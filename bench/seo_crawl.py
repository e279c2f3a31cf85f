"""The SEO crawl, measured beside a minimal Scrapy spider with the same concurrency, in one run.

    .venv/bin/pip install scrapy                      # the baseline; not a dependency of Pipulate
    .venv/bin/python bench/seo_crawl.py               # 10,000 pages, both crawlers, then 100,000 (Pipulate)
    .venv/bin/python bench/seo_crawl.py --quick       # 2,000 pages, both; no 100,000 run

Both crawl the same generated site (bench/seo_site.py) on 127.0.0.1, with politeness delays off
and the same number of requests at once to the host (--concurrency, default 8), each in its own
process; the site's server is pinned to CPU 0 and the crawlers to CPU 1 when `taskset` exists.
Figures: pages/s (pages fetched over the crawl's wall time, start-up excluded) and peak memory
(the crawler process's peak RSS). Pipulate's crawl is the workflow's own code (`run_crawl` on its
on-disk store, parsing every page's facts and links); Scrapy's spider follows every link and
yields each page's title. Targets: at least Scrapy's pages/s; memory flat as the site grows,
under 300 MB at 100,000 pages.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

SCRAPY_SPIDER = r'''
import json, resource, sys, time
import scrapy
from scrapy.crawler import CrawlerProcess

START, PAGES, CONCURRENCY = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seen = {"pages": 0}

class Site(scrapy.Spider):
    name = "site"
    start_urls = [START]

    def parse(self, response):
        seen["pages"] += 1
        yield {"url": response.url, "title": response.css("title::text").get()}
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href, self.parse)

process = CrawlerProcess(settings={
    "CONCURRENT_REQUESTS": CONCURRENCY, "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENCY, "DOWNLOAD_DELAY": 0,
    "ROBOTSTXT_OBEY": True, "LOG_LEVEL": "ERROR", "TELNETCONSOLE_ENABLED": False, "COOKIES_ENABLED": False,
    "CLOSESPIDER_PAGECOUNT": PAGES, "AUTOTHROTTLE_ENABLED": False, "DEPTH_PRIORITY": 1,
    "SCHEDULER_DISK_QUEUE": "scrapy.squeues.PickleFifoDiskQueue", "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
})
process.crawl(Site)
started = time.monotonic()
process.start()
seconds = time.monotonic() - started
print(json.dumps({"pages": seen["pages"], "seconds": seconds,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''

OUR_CRAWL = r'''
import json, resource, sys, time
from pathlib import Path
from pipulate_seo.crawl.config import CrawlConfig, checked
from pipulate_seo.crawl.engine import Reporter, run_crawl
from pipulate_seo.crawl.store import CrawlStore

START, PAGES, CONCURRENCY, FOLDER = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
config = checked(CrawlConfig(start=START, max_pages=PAGES, max_depth=1000, per_host=CONCURRENCY, delay=0.0, timeout=30,
                             allow_private=True))
store = CrawlStore(FOLDER / "crawl.sqlite")
started = time.monotonic()
summary = run_crawl(config, store, Reporter(say=lambda text: None))
seconds = time.monotonic() - started
print(json.dumps({"pages": summary["pages_crawled"], "seconds": seconds,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "store_mb": (FOLDER / "crawl.sqlite").stat().st_size / 1e6}))
'''


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pinned(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


def serve_site(pages: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([*pinned(0), sys.executable, str(HERE / "seo_site.py"), "--pages", str(pages), "--port", str(port)])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the benchmark site did not start")


def run(script: str, *args: str) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as file:
        file.write(script)
    try:
        result = subprocess.run([*pinned(1), sys.executable, file.name, *args], capture_output=True, text=True, cwd=ROOT,
                                timeout=3600)
    finally:
        os.unlink(file.name)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(crawler: str, pages: int, concurrency: int, work: Path) -> dict:
    site, start = serve_site(pages)
    try:
        if crawler == "scrapy":
            return run(SCRAPY_SPIDER, start, str(pages), str(concurrency))
        folder = work / f"pipulate-{pages}"
        folder.mkdir(parents=True, exist_ok=True)
        return run(OUR_CRAWL, start, str(pages), str(concurrency), str(folder))
    finally:
        site.kill()
        site.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 pages, no 100,000-page run")
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000, help="pages of the memory run (0: skip it)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of each crawler at --pages")
    options = parser.parse_args()
    pages, large = (2_000, 0) if options.quick else (options.pages, options.large)
    try:
        import scrapy  # noqa: F401
    except ImportError:
        log("Scrapy is the baseline: install it first with  .venv/bin/pip install scrapy")
        return 2
    results: dict[str, list[dict]] = {"pipulate": [], "scrapy": []}
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        for number in range(options.rounds):
            for crawler in ("pipulate", "scrapy") if number % 2 == 0 else ("scrapy", "pipulate"):
                found = measure(crawler, pages, options.concurrency, work / f"round-{number}")
                found["rate"] = found["pages"] / found["seconds"]
                results[crawler].append(found)
                log(f"{crawler:8} {found['pages']:>7,} pages in {found['seconds']:6.1f} s = {found['rate']:7,.0f} pages/s, "
                    f"peak {found['peak_mb']:6.1f} MB")
        big = measure("pipulate", large, options.concurrency, work / "large") if large else None
        if big:
            big["rate"] = big["pages"] / big["seconds"]
            log(f"pipulate {big['pages']:>7,} pages in {big['seconds']:6.1f} s = {big['rate']:7,.0f} pages/s, peak {big['peak_mb']:6.1f} MB "
                f"(store {big['store_mb']:.0f} MB on disk)")
    best = {name: max(runs, key=lambda r: r["rate"]) for name, runs in results.items()}
    ratio = best["pipulate"]["rate"] / best["scrapy"]["rate"]
    rows = [
        ("pages/s", f"{best['pipulate']['rate']:,.0f}", f"{best['scrapy']['rate']:,.0f}", f"{ratio:.2f}x",
         "at least Scrapy's: " + ("pass" if ratio >= 1 else "miss")),
        ("peak memory", f"{best['pipulate']['peak_mb']:.0f} MB", f"{best['scrapy']['peak_mb']:.0f} MB",
         f"{best['pipulate']['peak_mb'] / best['scrapy']['peak_mb']:.2f}x", "(reported)"),
    ]
    if big:
        rows.append((f"peak memory, {big['pages']:,} pages", f"{big['peak_mb']:.0f} MB", "", "",
                     "under 300 MB: " + ("pass" if big["peak_mb"] < 300 else "miss")))
    print(f"| figure ({pages:,} pages, {options.concurrency} at once) | Pipulate | Scrapy | ratio | target |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(json.dumps({"results": results, "large": big}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
