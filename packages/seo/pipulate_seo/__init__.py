"""Pipulate's SEO tools, as workflows: a polite site crawl, an audit, a link graph, exports.

    crawl/     the crawler: URLs and scope, robots.txt, fetching (address guard, body cap),
               parsing, sitemaps, politeness per host, the on-disk frontier and results, the engine
    audit/     the issue catalog, the checks (SQL over the crawl's file), the link graph, the tables
    web/       the pages: the issues explorer, the graph, exports, compare, Search Console, the chat's view
    steps.py   the workflow's steps; apps.py the Workflow plugin (the `pipulate.plugins` entry point)
"""

__version__ = "0.1.0"
