"""`pipulate profile export NAME [FILE]` and `pipulate profile import FILE`: a profile as one file
(pipulate/_profile_file.py), the same file the Profiles page exports and imports."""

from __future__ import annotations

from pathlib import Path

from .._config import ConfigError
from .settings_options import add_settings_options, settings_from_options


def add_parsers(commands) -> None:
    parser = commands.add_parser("profile", help="export or import a profile as one file",
                                 description="A profile as one file: its todos, chat, settings and workflow runs.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = actions.add_parser("export", help="write a profile to a file")
    export.add_argument("name", metavar="NAME", help="the profile's name")
    export.add_argument("file", nargs="?", type=Path, metavar="FILE", help="default: <name>.pipulate-profile.zip")
    add_settings_options(export)
    export.set_defaults(run=run_export)
    imported = actions.add_parser("import", help="make a new profile from a file")
    imported.add_argument("file", type=Path, metavar="FILE", help="a file made by export")
    add_settings_options(imported)
    imported.set_defaults(run=run_import)


def _core(args):
    from .._app import create_app

    return create_app(settings_from_options(args)).state.core


def run_export(args) -> int:
    from .._errors import UserError
    from .._profile_file import export_profile, file_name
    from . import fail

    try:
        core = _core(args)
    except ConfigError as error:
        return fail(str(error), 2)
    try:
        found = [p for p in core.profiles.all() if p.name.lower() == args.name.lower()]
        if not found:
            names = ", ".join(p.name for p in core.profiles.all())
            return fail(f"no profile named “{args.name}” (there are: {names})", 2)
        target = args.file or Path(file_name(found[0].name))
        if target.exists():
            return fail(f"{target} exists already; choose another file", 2)
        try:
            export_profile(core, found[0].id, target)
        except (UserError, OSError) as error:
            target.unlink(missing_ok=True)
            return fail(getattr(error, "message", None) or str(error))
        print(f"Exported the profile “{found[0].name}” to {target} ({target.stat().st_size / 1e6:.1f} MB).")
        return 0
    finally:
        core.db.close()


def run_import(args) -> int:
    from .._errors import UserError
    from .._profile_file import import_profile
    from . import fail

    if not args.file.is_file():
        return fail(f"{args.file} does not exist", 2)
    try:
        core = _core(args)
    except ConfigError as error:
        return fail(str(error), 2)
    try:
        with open(args.file, "rb") as source:
            profile, notes = import_profile(core, source)
    except UserError as error:
        return fail(error.message)
    finally:
        core.db.close()
    print(f"Imported the profile “{profile.name}” from {args.file}.")
    for note in notes:
        print(f"pipulate: note: {note}")
    return 0
