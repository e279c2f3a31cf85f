"""`pipulate run` and `pipulate runs`: a workflow from the command line, on the app's own data.

    pipulate run hello --set name=Ada --set tone=pirate     # a new run, to the end
    pipulate run hello --key default-hello-01 --set poem.x=1 # carry on an existing run
    pipulate runs [hello]                                   # the runs of the selected profile

`--set NAME=VALUE` fills a field of whichever step has it (`STEP.NAME=VALUE` when two steps
share a field name); a field given several times is a list (one per line). Exit status: 0 when
the run is complete, 1 when a step failed, 3 when a step needs input (named on stderr), 2 for
a bad option.
"""

from __future__ import annotations

import sys

from .._config import ConfigError
from .._errors import UserError
from .settings_options import add_settings_options, settings_from_options

NEEDS_INPUT = 3


def add_parsers(commands) -> None:
    parser = commands.add_parser("run", help="run a workflow to the end, headless",
                                 description="Run a workflow headless: a new run, or --key to carry one on.")
    parser.add_argument("workflow", help="the workflow's name (see `pipulate runs`)")
    parser.add_argument("--key", help="carry on this run instead of starting a new one")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="values",
                        help="a field's value (STEP.NAME=VALUE when names repeat); repeat for more")
    parser.add_argument("--profile", help="the profile to run as (default: the one selected in the app)")
    parser.add_argument("--timeout", type=float, default=None, help="give up after this many seconds")
    add_settings_options(parser)
    parser.set_defaults(run=run)

    listing = commands.add_parser("runs", help="list workflow runs", description="List the runs of a profile.")
    listing.add_argument("workflow", nargs="?", help="only this workflow's runs")
    listing.add_argument("--profile", help="the profile (default: the one selected in the app)")
    add_settings_options(listing)
    listing.set_defaults(run=list_runs)


def run(args) -> int:
    from . import fail

    try:
        app = _open(args)
    except ConfigError as error:
        return fail(str(error), 2)
    except UserError as error:
        return fail(error.message, 2)
    try:
        if args.workflow not in app.classes:
            return fail(f"no workflow named {args.workflow!r}; installed: {', '.join(app.names()) or 'none'}", 2)
        try:  # every value is checked before a run is started or changed
            by_step = _values_by_step(app, args.workflow, args.values)
            workflow_run = app.open(args.key) if args.key else app.start(args.workflow)
        except UserError as error:
            return fail(error.message, 2)
        print(f"run {workflow_run.key}", flush=True)
        return _drive(workflow_run, by_step, args.timeout)
    finally:
        app.close()


def _drive(workflow_run, by_step: dict, timeout) -> int:
    from .._workflows.notebook import StepFailed, StepNeedsInput
    from . import fail

    while True:
        try:
            workflow_run.run_all(timeout=timeout)
        except StepNeedsInput as waiting:
            spec = workflow_run.app.engine.spec(workflow_run.workflow, waiting.step)
            given = by_step.pop(waiting.step, None)
            lacking = [f.name for f in spec.fields if f.required and f.name not in (given or {})]
            if given is not None or (not lacking and spec.fields):  # defaults fill the rest
                try:
                    workflow_run.submit(waiting.step, **(given or {}))
                except UserError as error:
                    return fail(error.message, 2)
                continue
            print(f"pipulate: the step “{spec.title}” ({spec.id}) needs {', '.join(lacking)}. Give it with "
                  f"--set, then: pipulate run {workflow_run.workflow} --key {workflow_run.key} --set NAME=VALUE",
                  file=sys.stderr)
            return NEEDS_INPUT
        except StepFailed as failed:
            return fail(failed.message, 1)
        except TimeoutError as error:
            return fail(str(error), 1)
        break
    for step in workflow_run.steps():
        print(f"  {step['step']}: {step['status']}")
    print(f"run {workflow_run.key} is complete")
    return 0


def _values_by_step(app, workflow: str, values: list[str]) -> dict:
    specs = app.engine.specs(workflow)
    by_step: dict[str, dict] = {}
    for item in values:
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise UserError(f"--set takes NAME=VALUE, not {item!r}")
        step, dot, field = name.strip().rpartition(".")
        owners = [s for s in specs if s.field(field) is not None and (not dot or s.id == step)]
        if not owners:
            raise UserError(f"no step of {workflow} has a field {name.strip()!r}")
        if len(owners) > 1:
            raise UserError(f"several steps have a field {field!r}; say which: " + ", ".join(f"{s.id}.{field}" for s in owners))
        fields = by_step.setdefault(owners[0].id, {})
        if field in fields:  # repeated: a list, one value per line
            fields[field] = f"{fields[field]}\n{value}"
        else:
            fields[field] = value
    for step, fields in by_step.items():
        spec = next(s for s in specs if s.id == step)
        for field, value in fields.items():
            try:
                spec.field(field).parse(value)
            except ValueError as error:
                raise UserError(f"--set {step}.{field}: {error}") from None
    return by_step


def list_runs(args) -> int:
    from . import fail

    try:
        app = _open(args, quiet=True)
    except ConfigError as error:
        return fail(str(error), 2)
    except UserError as error:
        return fail(error.message, 2)
    try:
        runs = app.runs(args.workflow)
        if not runs:
            print(f"no runs for the profile {app.profile.name}")
            return 0
        print(f"{'RUN':<32} {'STATUS':<18} {'LAST STEP':<24} UPDATED")
        for workflow_run in runs:
            view = workflow_run.view()
            last = view.last_done.title if view.last_done else "—"
            from datetime import datetime

            when = datetime.fromtimestamp(view.run.updated_at).strftime("%Y-%m-%d %H:%M")
            print(f"{workflow_run.key:<32} {view.status:<18} {last[:24]:<24} {when}")
        return 0
    finally:
        app.close()


def _open(args, quiet: bool = False):
    import logging

    from .._workflows.notebook import Workflows

    settings = settings_from_options(args)
    logging.getLogger("pipulate").setLevel(logging.ERROR)  # a failed step is reported once, below

    def progress(event: dict) -> None:
        if quiet:
            return
        if event["kind"] == "progress":
            total = f"/{event['total']}" if event["total"] else ""
            print(f"  {event['step']}: {event['done']}{total} {event['note']}", flush=True)
        elif event["kind"] == "stream":
            print(event["text"], end="", flush=True)
        elif event["kind"] == "say":
            print(f"  {event['text']}", flush=True)

    return Workflows(settings, profile=getattr(args, "profile", None), on_event=progress)
