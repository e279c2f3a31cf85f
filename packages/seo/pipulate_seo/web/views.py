"""The steps' cards. Everything that came from a crawled page is text that FastHTML escapes;
links to crawled URLs are only ever http(s) (the crawl keeps nothing else) and open in a new tab
without referrer."""

from __future__ import annotations

from urllib.parse import urlencode

from fasthtml.common import (
    H4,
    A,
    Button,
    Canvas,
    Div,
    Form,
    Input,
    Label,
    Option,
    P,
    Script,
    Select,
    Small,
    Span,
    Strong,
    Table,
    Tbody,
    Td,
    Th,
    Thead,
    Tr,
)

from ..audit.catalog import SEVERITIES

WORKFLOW = "seo-crawl"


def settings_card(settings: dict):
    target = settings["start"] if settings["mode"] != "list" else f"{len(settings['urls']):,} URLs"
    politeness = f"{settings['per_host']} at once per host, {settings['delay']:g} s apart"
    return Div(P(Strong({"spider": "Site", "list": "List", "sitemap": "Sitemap"}[settings["mode"]]), ": ", target),
               Small(f"Up to {settings['max_pages']:,} pages, {settings['max_depth']} clicks deep; {politeness}; "
                     f"robots.txt {'obeyed' if settings['respect_robots'] else 'ignored'}.", cls="hint"))


def crawl_card(result, run):
    facts = result.value or {}
    states = facts.get("states", {})
    rows = [("Pages crawled", facts.get("pages_crawled", 0)), ("Errors (no answer, 5xx, 429)", facts.get("errors", 0)),
            ("Blocked by robots.txt", states.get("blocked", 0)), ("Not crawled (limits, patterns)", facts.get("not_crawled", 0)
             + states.get("excluded", 0)), ("Pages per second", facts.get("pages_per_second", 0))]
    classes = ", ".join(f"{name}: {count:,}" for name, count in sorted(facts.get("status_classes", {}).items()))
    return Div(
        Table(Tbody(*[Tr(Th(label), Td(f"{value:,}" if isinstance(value, int) else str(value))) for label, value in rows]),
              cls="facts"),
        P(f"Answers: {classes}.", cls="hint") if classes else None,
        H4("Pages"), run.table("pages"),
        H4("Links (with anchor text and nofollow)"), run.table("links"),
    )


def audit_card(result, run):
    kinds = (result.value or {}).get("issue_types", [])
    total = sum(row["pages"] for row in kinds)
    key = run.key
    return Div(
        P(f"{total:,} issues of {len(kinds)} kinds." if kinds else "No issues found.", cls="audit-total"),
        Div(Div(hx_get=run.url("issues"), hx_trigger="load", hx_swap="outerHTML", cls="hint"), id=f"issues-{key}"),
        Div(id=f"issue-detail-{key}"),
        Div(A("Download the audit (XLSX, a sheet per issue)", href=run.url("audit.xlsx"), cls="button", download=True,
              id=f"audit-xlsx-{key}"),
            A("Issues (CSV)", href=run.download("issues", "csv"), cls="button secondary", download=True),
            A("Issues (XLSX)", href=run.download("issues", "xlsx"), cls="button secondary", download=True),
            cls="actions"),
        ask_chat("What should I fix first on this site? Rank the issues by how much they matter, from this crawl's numbers.",
                 "What should I fix first?"),
        search_console_form(run),
        compare_form(run),
    )


def graph_card(result, run):
    facts = result.value or {}
    key = run.key
    top = facts.get("top_pagerank", [])[:5]
    return Div(
        Table(Tbody(Tr(Th("Pages"), Td(f"{facts.get('pages', 0):,}")), Tr(Th("Internal links"), Td(f"{facts.get('links', 0):,}")),
                    Tr(Th("Orphan pages"), Td(f"{facts.get('orphans', 0):,}")), Tr(Th("Dead ends"), Td(f"{facts.get('dead_ends', 0):,}"))),
              cls="facts"),
        P("Highest internal PageRank: ", *[Span(external(row["url"]), " ") for row in top], cls="hint") if top else None,
        Div(Canvas(id=f"graph-canvas-{key}", width="900", height="520", cls="link-graph", data_src=run.url("graph.json"),
                   style="width: 100%; height: auto; border: 1px solid #ddd; border-radius: 6px; cursor: grab",
                   aria_label="The site's link structure: drag to move, scroll to zoom, hover a dot for its page"),
            P("", id=f"graph-info-{key}", cls="hint graph-info"), cls="graph-box"),
        Script(src="/seo-crawl/static/d3-force.js"), Script(src="/seo-crawl/static/linkgraph.js"),
        H4("Nodes (for Gephi)"), run.table("nodes"),
        H4("Edges (for Gephi)"), run.table("edges"),
    )


def external(url: str):
    shown = url if len(url) <= 120 else url[:117] + "…"
    if not url.startswith(("http://", "https://")):
        return Span(shown)
    return A(shown, href=url, target="_blank", rel="noopener noreferrer nofollow")


def ask_chat(message: str, label: str):
    """A button that sends `message` to the chat (over the page's socket, like the chat's own form)."""
    return Form(Input(type="hidden", name="action", value="chat"), Input(type="hidden", name="message", value=message),
                Button(label, cls="secondary"), ws_send=True, cls="inline-form ask-chat")


def search_console_form(run):
    return Form(
        Label("Rank by traffic: a Search Console performance export (Pages.csv, or the .zip)",
              Input(type="file", name="export", accept=".csv,.zip")),
        Button("Import", cls="secondary"),
        hx_post=run.url("search-console"), hx_encoding="multipart/form-data", hx_target=f"#issues-{run.key}",
        hx_swap="innerHTML", cls="gsc-form")


def compare_form(run):
    return Div(
        Form(Label("Compare with another crawl of this site", Select(
            Option("Loading…", value=""), name="other", hx_get=run.url("compare-options"), hx_trigger="load",
            hx_swap="innerHTML")),
             Button("Compare", cls="secondary"), hx_get=run.url("compare"), hx_target=f"#compare-{run.key}",
             hx_swap="innerHTML", cls="compare-form"),
        Div(id=f"compare-{run.key}"))


def severity_select(selected: str):
    return Select(Option("All severities", value=""), *[Option(s.capitalize(), value=s, selected=s == selected)
                                                        for s in SEVERITIES], name="severity")


def issues_explorer(base: str, key: str, rows: list[dict], traffic: bool, severity: str, text: str, sort: str,
                    descending: bool):
    """The issue types found, filterable by severity and type, sortable by any column."""
    query = urlencode({"severity": severity, "q": text})

    def header(label: str, column: str):
        flip = "0" if sort == column and descending else "1"
        mark = (" ↓" if descending else " ↑") if sort == column else ""
        return Th(A(label + mark, hx_get=f"{base}/issues?sort={column}&desc={flip}&{query}", hx_target=f"#issues-{key}",
                    hx_swap="innerHTML", href="#", cls="sort"))

    body = [Tr(Td(row["issue"], Br_small(row["type"])), Td(Span(row["severity"], cls=f"severity {row['severity']}")),
               Td(f"{row['pages']:,}"), *([Td(f"{row['clicks']:,}")] if traffic else []), Td(row["explanation"], cls="hint"),
               Td(Button(f"Show {row['pages']:,} URL{'s' if row['pages'] != 1 else ''}", cls="secondary",
                         hx_get=f"{base}/issues/{row['type']}", hx_target=f"#issue-detail-{key}", hx_swap="innerHTML",
                         hx_push_url="true"), cls="actions"),
               id=f"issue-row-{key}-{row['type']}", data_type=row["type"])
            for row in rows]
    return Div(
        Form(severity_select(severity), Input(type="search", name="q", value=text, placeholder="Filter by issue type"),
             Input(type="hidden", name="sort", value=sort), Input(type="hidden", name="desc", value="1" if descending else "0"),
             hx_get=f"{base}/issues", hx_trigger="change, keyup changed delay:300ms from:find input[type=search]",
             hx_target=f"#issues-{key}", hx_swap="innerHTML", cls="issue-filters"),
        Div(Table(Thead(Tr(header("Issue", "issue"), header("Severity", "severity"), header("Pages", "pages"),
                           *([header("Clicks", "clicks")] if traffic else []), Th("What it means"), Th(""))),
                  Tbody(*body), cls="data issues"), cls="table-scroll") if rows else P("No issue matches.", cls="empty-note"),
        id=f"issues-table-{key}")


def Br_small(text: str):  # noqa: N802 - an FT-style helper
    return Div(Small(text, cls="hint"))
