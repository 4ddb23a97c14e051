"""Terminal chat against the running stack: a newcomer's first conversation with Aduan.

Talks to Rasa's REST channel directly as sender `cli:<user>`; buttons are numbered so they can
be chosen by typing the number.
"""

from __future__ import annotations

import sys
from typing import Any

import httpx

PROMPT = "Anda> "


def send(client: httpx.Client, rasa_url: str, sender: str, message: str) -> list[dict[str, Any]]:
    response = client.post(f"{rasa_url.rstrip('/')}/webhooks/rest/webhook", json={"sender": sender, "message": message})
    response.raise_for_status()
    return response.json()


def render(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Print bot replies; return the buttons of the last reply that had some."""
    buttons: list[dict[str, Any]] = []
    for reply in replies:
        if reply.get("text"):
            for line in reply["text"].splitlines():
                print(f"Aduan> {line}")
        if reply.get("image"):
            print(f"Aduan> [gambar] {reply['image']}")
        if reply.get("buttons"):
            buttons = reply["buttons"]
            for i, button in enumerate(buttons, start=1):
                print(f"       {i}. {button['title']}")
    return buttons


def run_terminal_chat(rasa_url: str, sender: str) -> int:
    print("Aduan — obrolan terminal. Ketik keluhan Anda; 'keluar' untuk berhenti.")
    buttons: list[dict[str, Any]] = []
    with httpx.Client(timeout=60) as client:
        while True:
            try:
                text = input(PROMPT).strip()
            except (EOFError, KeyboardInterrupt):
                print()
                return 0
            if text.lower() in {"keluar", "exit", "quit"}:
                return 0
            if not text:
                continue
            if text.isdigit() and buttons and 1 <= int(text) <= len(buttons):
                text = buttons[int(text) - 1]["payload"]
            try:
                buttons = render(send(client, rasa_url, sender, text))
            except httpx.HTTPError as exc:
                print(
                    "Aduan> Mohon maaf, layanan sedang tidak dapat dihubungi "
                    f"({type(exc).__name__}). Pastikan 'make run' sedang berjalan, lalu coba lagi.",
                    file=sys.stderr,
                )
