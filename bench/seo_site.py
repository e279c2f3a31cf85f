"""A generated website for the crawl benchmark, served on 127.0.0.1 by a small asyncio HTTP/1.1
server (keep-alive, no framework, so the server is not what is measured).

Page n (0 <= n < N) is made on request from its number: a title, a description, an H1, about
150 words and 12 links: to its "children" 10n+1..10n+10 (a tree, so the site is about five
levels deep at 10,000 pages), to its parent, and to a page chosen from its number (a cross link).
Nothing is kept in memory per page, so 100,000 pages cost the server nothing more than 10,000.

    python bench/seo_site.py --pages 10000 --port 8123      # serve until killed
"""

from __future__ import annotations

import argparse
import asyncio

WORDS = ("crawl audit link graph page title description heading robots sitemap canonical redirect status depth "
         "anchor internal external content words garden shop product category article").split()


def page(number: int, total: int) -> bytes:
    if not 0 <= number < total:
        return b""
    children = [c for c in range(10 * number + 1, 10 * number + 11) if c < total]
    links = children + [max(0, (number - 1) // 10), (number * 7919) % total]
    text = " ".join(WORDS[(number + i * 7) % len(WORDS)] for i in range(150))
    anchors = "".join(f'<a href="/p/{target}">Page {target}</a> ' for target in links)
    return (f"<!doctype html><html><head><meta charset=utf-8><title>Benchmark page {number} of the generated site</title>"
            f'<meta name="description" content="Page {number} of a generated site for measuring how fast a crawler is.">'
            f"</head><body><h1>Page {number}</h1><nav>{anchors}</nav><p>{text}</p></body></html>").encode()


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, total: int) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode("latin-1")
            body, status = b"", 404
            if path.startswith("/p/") and path[3:].isdigit():
                body = page(int(path[3:]), total)
                status = 200 if body else 404
            elif path == "/":
                body, status = page(0, total), 200
            reason = b"OK" if status == 200 else b"Not Found"
            writer.write(b"HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n"
                         % (status, reason, len(body)) + body)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, IndexError):
        pass
    finally:
        writer.close()


async def main(total: int, port: int) -> None:
    server = await asyncio.start_server(lambda r, w: serve(r, w, total), "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--port", type=int, required=True)
    options = parser.parse_args()
    asyncio.run(main(options.pages, options.port))
