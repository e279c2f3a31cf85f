"""Workflows: a notebook's cells as steps of a web app, whose runs survive anything.

    definition.py  @step and the checks of a workflow's steps      fields.py   forms from type hints
    plugin.py      Workflow: the plugin, its pages and routes       render.py   cards, forms, results
    engine.py      submit, advance, revert, cancel, finalize        store.py    the run store (tables)
    execution.py   calling a step; results.py: values and table files; context.py: the chat's view
    job.py, llm.py what a background step's code gets (`job`, `llm`)
    jobs.py        the door to the job engine; _dbos.py behind it; job_runner.py runs a job
    service.py     the server's wiring (events to pages, recovery); notebook.py: the same from Python
"""
