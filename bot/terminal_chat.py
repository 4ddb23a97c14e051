"""`aduan chat`: the terminal as a citizen's chat, through the running gateway like the web chat.

The session is stable per `--user` (default: the OS account), so the conversation, its tickets
and every later notification ("Kami akan mengabari Anda di chat ini") reach the same terminal:
replies and notifications arrive on the gateway's event stream and are printed as they come,
including those that arrived while the terminal was closed. Buttons are numbered; type the number.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import uuid
from typing import Any

import httpx

PROMPT = "Anda> "
SESSION_PREFIX = "terminal-"


def session_for(user: str) -> str:
    """A web-chat session id for this user (the gateway accepts [A-Za-z0-9_-]{8,64})."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "-", user)[:40] or "warga"
    return SESSION_PREFIX + cleaned


class TerminalChat:
    def __init__(self, gateway_url: str, session: str, out: Any = None) -> None:
        self.url = gateway_url.rstrip("/")
        self.session = session
        self.out = out or sys.stdout
        self.buttons: list[dict[str, Any]] = []
        self.after = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def render(self, message: dict[str, Any]) -> None:
        with self._lock:
            if message.get("text"):
                for line in message["text"].splitlines():
                    print(f"Aduan> {line}", file=self.out)
            if message.get("image"):
                print(f"Aduan> [gambar] {message['image']}", file=self.out)
            if message.get("buttons"):
                self.buttons = message["buttons"]
                for i, button in enumerate(self.buttons, start=1):
                    print(f"       {i}. {button['title']}", file=self.out)
            self.out.flush()

    def catch_up(self, client: httpx.Client) -> None:
        """Start after the last reply already in this chat's history (it was seen or is shown now)."""
        history = client.get(f"{self.url}/api/web/history", params={"session": self.session}).json()
        self.after = int(history.get("after") or 0)

    def send(self, client: httpx.Client, text: str) -> None:
        payload = None
        if text.isdigit() and self.buttons and 1 <= int(text) <= len(self.buttons):
            button = self.buttons[int(text) - 1]
            text, payload = button["title"], button["payload"]
        self.buttons = []
        body = {"session": self.session, "id": uuid.uuid4().hex, "text": text, "payload": payload}
        client.post(f"{self.url}/api/web/messages", json=body).raise_for_status()

    def listen(self) -> None:
        """Print replies and notifications from the event stream until stopped; reconnects on its own."""
        while not self._stop.is_set():
            try:
                with (
                    httpx.Client(timeout=httpx.Timeout(10, read=60)) as client,
                    client.stream(
                        "GET", f"{self.url}/api/web/events", params={"session": self.session, "after": self.after}
                    ) as response,
                ):
                    for line in response.iter_lines():
                        if self._stop.is_set():
                            return
                        if line.startswith("data: "):
                            message = json.loads(line[6:])
                            self.after = max(self.after, int(message.get("id") or 0))
                            self.render(message)
            except httpx.HTTPError:
                self._stop.wait(2)

    def stop(self) -> None:
        self._stop.set()


def run_terminal_chat(gateway_url: str, user: str) -> int:
    chat = TerminalChat(gateway_url, session_for(user))
    print(f"Aduan — obrolan terminal sebagai '{user}'. Ketik keluhan Anda; 'keluar' untuk berhenti.")
    with httpx.Client(timeout=30) as client:
        try:
            chat.catch_up(client)
        except httpx.HTTPError as exc:
            print(
                f"Aduan> Mohon maaf, layanan belum dapat dihubungi di {gateway_url} ({type(exc).__name__}). "
                "Pastikan 'make run' sedang berjalan, lalu coba lagi.",
                file=sys.stderr,
            )
            return 1
        listener = threading.Thread(target=chat.listen, daemon=True)
        listener.start()
        try:
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
                try:
                    chat.send(client, text)
                except httpx.HTTPError as exc:
                    print(
                        "Aduan> Mohon maaf, pesan belum terkirim "
                        f"({type(exc).__name__}). Pastikan 'make run' sedang berjalan, lalu coba lagi.",
                        file=sys.stderr,
                    )
        finally:
            chat.stop()
