"""Hello: a worked example of a workflow, in two steps. Copy it to start your own.

Step 1 is a form made from the function's parameters (a text, a choice, a checkbox) and draws
its own result; step 2 receives step 1's result because a parameter has its name, and asks the
local model, whose answer streams into the page and is kept with the model and the prompt.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fasthtml.common import P, Strong

from pipulate import LLM, Field, Workflow, step


def show_greeting(greeting: str):
    """A step may draw its own result; the default would show the text as it is."""
    return P("The greeting: ", Strong(greeting))


@step("Who and how", render=show_greeting)
def greeting(
    name: Annotated[str, Field(max_length=60, placeholder="Ada")] = "World",
    tone: Literal["friendly", "formal", "pirate"] = "friendly",
    shout: bool = False,
) -> str:
    """Who to greet, and in which tone."""
    opening = {"friendly": "Hi", "formal": "Good day", "pirate": "Ahoy"}[tone]
    text = f"{opening}, {name}!"
    return text.upper() if shout else text


@step("A line from the local model")
def poem(greeting: str, llm: LLM) -> str:
    """The local model turns the greeting into a two-line poem (nothing leaves this machine)."""
    return llm.ask(f"Write a two-line poem that starts with: {greeting}")


class Hello(Workflow):
    name = "hello"
    label = "Hello workflow"
    menu_order = 40
    description = "Greets someone, then asks the local model for a short poem about it."
    steps = (greeting, poem)
