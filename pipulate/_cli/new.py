"""`pipulate new VARIANT DIR`: a branded variant from the template, as a git repository."""

from __future__ import annotations

import argparse
from pathlib import Path

from .settings_options import port_number


def add_parser(commands) -> None:
    from .._variants import VARIANTS, default_core_url, install_copier

    parser = commands.add_parser(
        "new",
        help="make a branded variant (darwinix, pipulate, botifython)",
        description="Make a branded variant from Pipulate's template: a new folder, a git repository "
        f"with one commit. Needs copier: {install_copier()}",
    )
    parser.add_argument("variant", metavar="VARIANT", help=f"one of {', '.join(VARIANTS)}")
    parser.add_argument("directory", metavar="DIR", type=Path, help="a new (or empty) folder")
    parser.add_argument(
        "--name", help="the brand, e.g. \"Acme Tools\" (default: Darwinix, Pipulate SEO or Botifython); "
        "it must not make the project name pipulate or pipulate-core"
    )
    parser.add_argument("--port", type=port_number, default=None,
                        help="the app's port (default: one of 5100-5899 made from the name, so variants differ)")
    parser.add_argument("--model", help="the chat's default model (default: the variant's)")
    parser.add_argument("--accent-color", help="accent colour, #rrggbb (default: the variant's)")
    parser.add_argument("--logo", type=Path, help="an .svg, .png, .jpg or .webp file, copied to brand/")
    parser.add_argument(
        "--template", help="template source: a Pipulate checkout or git URL (default: this checkout, else the "
        "project's source repository)"
    )
    parser.add_argument(
        "--core-url", help="where the variant gets the core: github:OWNER/REPO, a git URL or a checkout "
        f"(default: {default_core_url()})"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from .._variants import VariantError, check_new, create
    from . import fail

    try:
        spec = check_new(
            args.variant,
            args.directory,
            name=args.name,
            port=args.port,
            model=args.model,
            accent_color=args.accent_color,
            logo=args.logo,
            template=args.template,
            core_url=args.core_url,
        )
        created = create(spec)
    except VariantError as error:
        return fail(str(error), error.code)
    for note in created.notes:
        print(f"pipulate: note: {note}")
    print(f"Made {spec.name} (a {spec.variant} variant, template {created.version}) in {created.directory}")
    print(f"  cd {created.directory}")
    print("  pip install -e '.[test]' && pipulate serve     # or: nix run")
    print(f"Then open http://127.0.0.1:{spec.port}. Later, pipulate upgrade . takes a newer template.")
    return 0
