"""Profiles: create, rename, delete (with confirmation) and switch.

The profile table and the selected profile belong to the core (`core.profiles`), since every
per-profile app depends on them; this plugin is the page that manages them. Each change also
refreshes the profile switcher in the top bar (an out-of-band swap).
"""

from __future__ import annotations

import json

from fasthtml.common import H2, A, Button, Div, Form, Input, Label, Li, P, Span, Ul

from .._errors import parse_id
from .._plugins import Plugin, route
from .._profiles import Profile
from .._ui.layout import profile_switcher


class ProfilesApp(Plugin):
    name = "profiles"
    label = "Profiles"
    menu_order = 90

    async def render(self, request):
        selected = self.core.profiles.selected()
        return (
            H2("Profiles"),
            Form(
                Input(name="name", placeholder="New profile name", aria_label="New profile name", autocomplete="off"),
                Button("Create"),
                id="profile-add",
                cls="inline-form",
                hx_post="/profiles",
                hx_target="#profile-list",
                hx_swap="beforeend",
                hx_sync="this:drop",  # a double click creates once
                hx_disabled_elt="find button",
                data_reset_on_success=True,
            ),
            Ul(
                *[profile_item(p, p.id == selected.id) for p in self.core.profiles.all()],
                id="profile-list",
                cls="item-list",
            ),
            P("Click a name to rename it. Each profile has its own todos and chat history.", cls="hint"),
            Form(
                Label("Import a profile", Input(type="file", name="file", accept=".zip", required=True,
                                                aria_label="Profile file to import")),
                Button("Import", cls="secondary"),
                id="profile-import",
                cls="inline-form transfer",
                hx_post="/profiles/import",
                hx_encoding="multipart/form-data",
                hx_target="#profile-list",
                hx_swap="beforeend",
                hx_sync="this:drop",
                data_reset_on_success=True,
            ),
            P("Export gives one file with a profile's todos, chat, settings and workflow runs (their result "
              "files too); importing it here, or in another copy of the app, makes a new profile.", cls="hint"),
        )

    @route.get("/{profile_id}/export")
    async def export(self, profile_id: str):
        import os
        import tempfile

        from starlette.background import BackgroundTask
        from starlette.responses import FileResponse

        from .._profile_file import export_profile, file_name

        profile = self.core.profiles.get(parse_id(profile_id, field="profile"))
        # Written to a temporary file (result files can be large), sent, then removed.
        handle, path = tempfile.mkstemp(prefix=".profile-export-", suffix=".zip", dir=self.core.settings.data_dir)
        with os.fdopen(handle, "wb") as target:
            export_profile(self.core, profile.id, target)
        return FileResponse(path, media_type="application/zip", filename=file_name(profile.name),
                            background=BackgroundTask(os.unlink, path))

    @route.post("/import")
    async def import_file(self, request):
        from .._errors import UserError
        from .._profile_file import import_profile

        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str) or not upload.filename:
            raise UserError("Choose a profile file (made by Export) to import.")
        profile, notes = import_profile(self.core, upload.file)  # spooled to disk by Starlette when large
        message = f"Imported “{profile.name}”." + (f" Note: {'; '.join(notes)}." if notes else "")
        return (profile_item(profile, selected=False), profile_switcher(self.core, oob=True),
                Div(Div(message, cls="message info", role="status"), id="flash", hx_swap_oob="true"))

    @route.post("")
    async def create(self, name: str = ""):
        profile = self.core.profiles.create(name)
        return profile_item(profile, selected=False), profile_switcher(self.core, oob=True)

    @route.get("/{profile_id}")
    async def show(self, profile_id: str):
        profile = self.core.profiles.get(parse_id(profile_id, field="profile"))
        return profile_item(profile, profile.id == self.core.profiles.selected().id)

    @route.get("/{profile_id}/edit")
    async def edit(self, profile_id: str):
        return profile_editor(self.core.profiles.get(parse_id(profile_id, field="profile")))

    @route.put("/{profile_id}")
    async def rename(self, profile_id: str, name: str = ""):
        profile = self.core.profiles.rename(parse_id(profile_id, field="profile"), name)
        is_selected = profile.id == self.core.profiles.selected().id
        return profile_item(profile, is_selected), profile_switcher(self.core, oob=True)

    @route.delete("/{profile_id}")
    async def delete(self, request, profile_id: str):
        self.core.profiles.delete(parse_id(profile_id, field="profile"))
        # The page may now show another profile: redraw the panel, the switcher and whatever
        # shows per-profile data beside the app (the chat history).
        return await self.render(request), profile_switcher(self.core, oob=True), *await self.core.asides(request, oob=True)

    @route.post("/select")
    async def select(self, request, profile_id: str = ""):
        shown = self.core.profiles.selected().id
        chosen = self.core.profiles.select(parse_id(profile_id, field="profile"))
        # The other tabs that showed the same profile follow (they stay in sync); a tab left
        # on another profile keeps it.
        if chosen.id != shown:
            await self.core.signal_pages("profile", shown, but=request.headers.get("x-pipulate-page", ""),
                                         to=chosen.id)
        # Whatever app this page shows now shows the new profile's data.
        return await self.core.page_parts(request)

    @route.get("/redraw")
    async def redraw(self, request):
        """The page redrawn for the profile it now shows (after another tab switched)."""
        return await self.core.page_parts(request)


def profile_item(profile: Profile, selected: bool) -> Li:
    target = f"#profile-{profile.id}"
    if selected:
        selection = Span("Selected", cls="badge")
    else:
        selection = Button(
            "Select",
            cls="secondary",
            hx_post="/profiles/select",
            hx_vals=json.dumps({"profile_id": profile.id}),
            hx_target="#app-panel",
            hx_swap="innerHTML",
        )
    return Li(
        Button(
            profile.name,
            cls="text profile-name",
            title="Click to rename",
            hx_get=f"/profiles/{profile.id}/edit",
            hx_target=target,
            hx_swap="outerHTML",
        ),
        selection,
        A("Export", href=f"/profiles/{profile.id}/export", cls="quiet-link", download=True,
          aria_label=f"Export profile {profile.name}"),
        Button(
            "Delete",
            cls="quiet delete",
            aria_label=f"Delete profile {profile.name}",
            hx_delete=f"/profiles/{profile.id}",
            hx_confirm=f"Delete the profile “{profile.name}” and all its data?",
            hx_target="#app-panel",
            hx_swap="innerHTML",
        ),
        id=f"profile-{profile.id}",
    )


def profile_editor(profile: Profile) -> Li:
    target = f"#profile-{profile.id}"
    return Li(
        Form(
            Input(
                name="name", value=profile.name, aria_label="Profile name", autofocus=True, autocomplete="off",
            ),
            Button("Save"),
            Button(
                "Cancel",
                type="button",
                cls="secondary",
                data_cancel=True,
                hx_get=f"/profiles/{profile.id}",
                hx_target=target,
                hx_swap="outerHTML",
            ),
            hx_put=f"/profiles/{profile.id}",
            hx_target=target,
            hx_swap="outerHTML",
            data_editor=True,
        ),
        id=f"profile-{profile.id}",
    )


