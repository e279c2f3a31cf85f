"""The page frame: brand, app menu, profile switcher, a message area and the app panel.

Handlers return only the part that changed; these builders are shared so a partial answer and
a full page render the same markup.
"""

from __future__ import annotations

import json

from fasthtml.common import (
    A,
    Aside,
    Body,
    Div,
    Form,
    Head,
    Header,
    Html,
    Img,
    Label,
    Link,
    Main,
    Meta,
    Nav,
    Option,
    P,
    Script,
    Section,
    Select,
    Span,
    Title,
)

from .. import __version__

# htmx settings: no attribute inheritance (every element says what it does), swap our 4xx
# answers (they carry HX-Retarget to the message area), no eval-based features.
HTMX_CONFIG = {
    "disableInheritance": True,
    "allowEval": False,
    "includeIndicatorStyles": False,
    # Wire a swapped-in form up at once: with the default 20 ms settle, Enter pressed in a
    # just-opened editor submitted it the plain browser way.
    "defaultSettleDelay": 0,
    "responseHandling": [
        {"code": "204", "swap": False},
        {"code": "[23]..", "swap": True},
        {"code": "[45]..", "swap": True, "error": True},
    ],
}


def static_url(file_name: str) -> str:
    return f"/static/{file_name}?v={__version__}"


def page(core, active, panel, asides=(), live: bool = False, title: str | None = None) -> Html:
    settings = core.settings
    scripts = ["htmx.min.js", "htmx-ext-ws.min.js", "pipulate.js"] + (["live-reload.js"] if live else [])
    return Html(
        Head(
            Meta(charset="utf-8"),
            Meta(name="viewport", content="width=device-width, initial-scale=1"),
            Meta(name="htmx-config", content=json.dumps(HTMX_CONFIG)),
            Title(title or page_title(core, active)),
            Link(rel="stylesheet", href=static_url("pipulate.css")),
            Link(rel="icon", href="/brand-logo" if settings.logo else static_url("favicon.svg")),
            *[Script(src=static_url(name), defer=True) for name in scripts],
        ),
        Body(
            Header(
                A(
                    Img(src="/brand-logo", alt="", cls="brand-logo") if settings.logo else None,
                    settings.app_name,
                    href="/",
                    cls="brand",
                ),
                app_menu(core, active.name),
                profile_switcher(core),
                cls="topbar",
            ),
            Div(
                Main(
                    Div(*[P(error) for error in core.plugin_errors], id="plugin-errors", cls="message error", role="alert")
                    if core.plugin_errors else None,
                    Div(id="flash", role="status", aria_live="polite"),
                    Section(panel, id="app-panel", aria_label=active.menu_label()),
                ),
                *asides,
                # One WebSocket per page (htmx ws extension): chat, chatq and progress use it.
                cls="workspace with-aside" if asides else "workspace",
                hx_ext="ws",
                ws_connect="/ws",
            ),
            style=f"--accent: {settings.accent_color}",
        ),
        lang="en",
    )


def page_title(core, active) -> str:
    return f"{active.menu_label()} · {core.settings.title}"


def app_menu(core, active_name: str, oob: bool = False) -> Nav:
    links = [
        A(
            plugin.menu_label(),
            href=f"/{plugin.name}",
            hx_get=f"/{plugin.name}",
            hx_target="#app-panel",
            hx_swap="innerHTML",
            hx_push_url="true",
            aria_current="page" if plugin.name == active_name else None,
        )
        for plugin in core.menu
    ]
    return Nav(*links, id="app-menu", aria_label="Apps", hx_swap_oob="true" if oob else None)


def aside_frame(plugin, content, oob: bool = False) -> Aside:
    return Aside(
        content,
        id=f"aside-{plugin.name}",
        cls="aside",
        aria_label=plugin.menu_label(),
        hx_swap_oob="true" if oob else None,
    )


def profile_switcher(core, oob: bool = False) -> Form:
    selected = core.profiles.selected()
    options = [
        Option(profile.name, value=str(profile.id), selected=profile.id == selected.id)
        for profile in core.profiles.all()
    ]
    return Form(
        Label(Span("Profile"), Select(*options, name="profile_id", id="profile-select")),
        id="profile-switcher",
        # The profile this page shows: pipulate.js sends it with every request of the page, so
        # a tab left open on another profile acts on the profile it shows.
        data_profile_id=str(selected.id),
        hx_post="/profiles/select",
        hx_trigger="change",
        hx_target="#app-panel",
        hx_swap="innerHTML",
        hx_swap_oob="true" if oob else None,
    )
