"""Driving the chat panel in Chromium as a person does: type, press Enter, wait for the reply."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .polling import wait_until

IDLE = "() => document.getElementById('chat-state').dataset.state === 'idle'"
STREAMING = "() => document.getElementById('chat-state').dataset.state === 'streaming'"
SOCKET_OPEN = "() => document.documentElement.dataset.socket === 'open'"


def open_chat(page: Page, url: str) -> None:
    """Open the app and wait until its page socket is open (and the page said hello)."""
    page.goto(url)
    wait_until(page, SOCKET_OPEN)


def box(page: Page):
    return page.locator("#chat-form textarea")


def type_and_send(page: Page, text: str) -> None:
    """Type into the chat box and press Enter (the box's fate is the test's to check)."""
    box(page).fill(text)
    box(page).press("Enter")


def send_and_wait(page: Page, text: str, timeout: float = 30) -> None:
    """Send a message, see it accepted (the box empties), and wait for its reply to end."""
    type_and_send(page, text)
    expect(box(page)).to_have_value("")
    wait_until(page, IDLE, timeout=timeout)


def messages(page: Page, role: str = ""):
    return page.locator(f"#chat-messages .msg{'.' + role if role else ''}")


def action(page: Page, message, name: str):
    """A button of a message (Copy, Regenerate, Retry, Edit and resend), by its accessible name."""
    return message.get_by_role("button", name=name, exact=True)
