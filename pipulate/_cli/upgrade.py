"""`pipulate upgrade DIR`: merge a newer template into a variant made by `pipulate new`.

Exit 0 when it merged cleanly (or there was nothing to do), 1 when files have conflicts (both
sides are kept in them, between markers) or the upgrade could not run, 2 for bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(commands) -> None:
    from .._variants import install_copier

    parser = commands.add_parser(
        "upgrade",
        help="merge a newer template into a variant",
        description="Re-render the variant's template version and the latest one, and merge the "
        f"difference into DIR (a clean git tree). Needs copier: {install_copier()}",
    )
    parser.add_argument("directory", metavar="DIR", type=Path, nargs="?", default=Path("."),
                        help="the variant's folder (default: here)")
    parser.add_argument("--template", help="template source, if it moved: a Pipulate checkout or git URL")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from .._variant_upgrade import upgrade
    from .._variants import VariantError
    from . import fail

    try:
        result = upgrade(args.directory, args.template)
    except VariantError as error:
        return fail(str(error), error.code)
    for note in result.notes:
        print(f"pipulate: note: {note}")
    where = result.directory
    if not result.changed:
        print(f"{where} is up to date with template {result.new_version}; nothing changed.")
        return 0
    print(f"Upgraded {where} from template {result.old_version} to {result.new_version}.")
    for path in result.changed:
        print(f"  {'conflict' if path in result.conflicts else 'changed '}  {path}")
    if result.conflicts:
        names = ", ".join(result.conflicts)
        print(
            f"pipulate: {len(result.conflicts)} file{'s' if len(result.conflicts) != 1 else ''} "
            f"need{'s' if len(result.conflicts) == 1 else ''} you: {names}. Nothing was lost: each keeps "
            "your text between '<<<<<<< before updating' and '=======' and the template's between "
            "'=======' and '>>>>>>> after updating'. Edit them, then git add and commit "
            "(to drop the whole upgrade: git reset --hard && git clean -fd).",
            file=sys.stderr,
        )
        return 1
    print(f"Review with git diff, then commit: git commit -am \"Template {result.new_version}\"")
    return 0
