"""Admin commands and buttons in registered chats, and what a citizen typing them is told.

Plain Python over the ticket service and the registry: the gateway hands in a channel-neutral
`AdminMessage` and queues the returned payloads to the same chat. Every change goes through
`TicketService` (state machine, audit event naming the chat member, citizen notice in the same
commit); an illegal change gets a clear answer and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import notify
from bot.domain.codes import normalize_code
from bot.domain.lifecycle import Status, TransitionError
from bot.masking import mask_text
from bot.relay import conversation
from bot.relay.registry import AdminChat, AdminRegistry
from bot.store import models as m
from bot.texts import render
from bot.tickets import TicketNotFound, TicketService, TicketView

ADMIN_COMMANDS = frozenset({"status", "tolak", "disposisi", "catatan", "tiket", "antrian", "balas"})
BUTTON_PREFIX = "adm:"
PRIVATE_TYPES = frozenset({"private", "user"})
MAX_REPLY = 3000
_COMMAND = re.compile(r"^/([A-Za-z_]+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)
USAGE = {
    "status": "/status KODE diproses|selesai [catatan]",
    "tolak": "/tolak KODE alasan",
    "disposisi": "/disposisi KODE OPD alasan",
    "catatan": "/catatan KODE teks",
    "tiket": "/tiket KODE",
    "balas": "/balas KODE pesan untuk warga",
}


@dataclass(frozen=True)
class AdminMessage:
    """One message or button press from a chat, as the relay needs it."""

    channel: str
    chat_id: str
    user_id: str
    chat_type: str
    text: str
    kind: str = "text"
    user_name: str | None = None
    reply_to: str | None = None
    """The channel's id of the message this one replies to (Telegram reply, LINE quote)."""
    thread_id: int | None = None
    """The Telegram forum topic it was written in."""
    message_id: str | None = None
    """The channel's id of this message (recorded when a citizen's message is relayed)."""
    forum: bool = False

    @property
    def private(self) -> bool:
        return self.chat_type in PRIVATE_TYPES

    @property
    def actor(self) -> str:
        """Who did it, for the audit trail: the chat member, not just the chat."""
        name = f" ({self.user_name})" if self.user_name else ""
        return f"admin:{self.channel}:{self.user_id}{name}"[:120]


def parse_command(text: str) -> tuple[str, str] | None:
    match = _COMMAND.match(text.strip())
    if not match:
        return None
    return match.group(1).lower(), (match.group(2) or "").strip()


def _text(key: str, **values: Any) -> dict[str, Any]:
    return {"text": render(key, **values)}


class AdminDesk:
    def __init__(self, sessions: sessionmaker[Session], service: TicketService, registry: AdminRegistry) -> None:
        self.sessions = sessions
        self.service = service
        self.registry = registry
        self.taxonomy = service.taxonomy

    def handle(self, msg: AdminMessage) -> list[dict[str, Any]] | None:
        """Payloads for the same chat, [] to stay silent, or None: not for the relay (a citizen's message)."""
        text = (msg.text or "").strip()
        command = parse_command(text) if msg.kind in ("text", "postback") else None
        if command and command[0] == "daftar":
            return [self._register(msg, command[1])]
        chat = self.registry.chat(msg.channel, msg.chat_id)
        if chat is None:
            if not msg.private:
                # Unregistered (or revoked) group: commands and buttons get one polite line, chatter nothing.
                return [_text("admin_not_registered")] if command or text.startswith(BUTTON_PREFIX) else []
            if (command and command[0] in ADMIN_COMMANDS) or text.startswith(BUTTON_PREFIX):
                return [_text("citizen_admin_command")]
            return self._citizen(msg, text)
        if text.startswith(BUTTON_PREFIX) and msg.kind == "postback":
            return self._button(chat, msg, text.removeprefix(BUTTON_PREFIX))
        if command is None:
            if msg.thread_id and msg.kind == "text" and text:
                topic = self._reply_in_topic(chat, msg, text)
                if topic is not None:
                    return topic
            if msg.reply_to and msg.kind == "text" and text:
                return self._reply_by_quote(chat, msg, text)
            return []  # ordinary talk among admins: the bot stays out of it
        name, args = command
        handler = getattr(self, f"_cmd_{name}", None)
        if handler is None or name not in ADMIN_COMMANDS:
            return [_text("admin_unknown_command")]
        return handler(chat, msg, args)

    # --- registration ---------------------------------------------------------------------

    def _register(self, msg: AdminMessage, args: str) -> dict[str, Any]:
        code = args.split()[0] if args.split() else ""
        if not code:
            return _text("admin_register_usage")
        result = self.registry.register(msg.channel, msg.chat_id, code, actor=msg.actor, forum=msg.forum)
        if result.chat is None:
            return _text(f"admin_register_{result.reason}")
        chat = result.chat
        receives = (
            render("admin_receives_coordinator")
            if chat.is_coordinator or chat.opd_id == self.taxonomy.coordinator_opd
            else render("admin_receives_opd", opd=chat.opd_name)
        )
        return _text(
            "admin_registered", role_label=render(f"admin_role_{chat.role}"), opd=chat.opd_name, receives=receives
        )

    # --- commands -------------------------------------------------------------------------

    def _ticket_for(self, chat: AdminChat, raw_code: str) -> TicketView | dict[str, Any]:
        """The ticket when this chat may act on it, else the answer to give."""
        code = normalize_code(raw_code or "")
        if code is None:
            return _text("admin_ticket_not_found", code=raw_code or "?")
        try:
            view = self.service.get(code)
        except TicketNotFound:
            return _text("admin_ticket_not_found", code=code)
        if not self._may_act(chat, view):
            return _text("admin_forbidden", code=code, opd=chat.opd_name)
        return view

    @staticmethod
    def _may_act(chat: AdminChat, view: TicketView) -> bool:
        return chat.is_coordinator or chat.opd_id == view.opd_id

    def _change(
        self, chat: AdminChat, msg: AdminMessage, raw_code: str, target: str, note: str | None, opd: str | None = None
    ) -> list[dict[str, Any]]:
        found = self._ticket_for(chat, raw_code)
        if not isinstance(found, TicketView):
            return [found]
        try:
            view = self.service.change_status(
                found.code, target, actor=f"{msg.actor} @{chat.opd_id}", note=note or None, opd_id=opd
            )
        except TransitionError as exc:
            return [_text("admin_illegal", reason=str(exc))]
        if opd is not None:
            return [_text("admin_done_reroute", code=view.code, opd=view.opd_name)]
        return [_text("admin_done_status", code=view.code, status_label=view.status_label)]

    def _cmd_status(self, chat: AdminChat, msg: AdminMessage, args: str) -> list[dict[str, Any]]:
        parts = args.split(maxsplit=2)
        if len(parts) < 2 or parts[1].lower() not in (Status.DIPROSES.value, Status.SELESAI.value):
            return [_text("admin_usage", usage=USAGE["status"])]
        return self._change(chat, msg, parts[0], parts[1].lower(), parts[2] if len(parts) > 2 else None)

    def _cmd_tolak(self, chat: AdminChat, msg: AdminMessage, args: str) -> list[dict[str, Any]]:
        parts = args.split(maxsplit=1)
        if len(parts) < 2:
            return [_text("admin_usage", usage=USAGE["tolak"])]
        return self._change(chat, msg, parts[0], Status.DITOLAK.value, parts[1])

    def _cmd_disposisi(self, chat: AdminChat, msg: AdminMessage, args: str) -> list[dict[str, Any]]:
        parts = args.split(maxsplit=2)
        if len(parts) < 3:
            return [_text("admin_usage", usage=USAGE["disposisi"])]
        opd = parts[1].lower()
        if opd not in self.taxonomy.opds:
            return [_text("admin_unknown_opd", opd=parts[1], choices=", ".join(self.taxonomy.opds))]
        return self._change(chat, msg, parts[0], Status.DIDISPOSISIKAN.value, parts[2], opd)

    def _cmd_catatan(self, chat: AdminChat, msg: AdminMessage, args: str) -> list[dict[str, Any]]:
        parts = args.split(maxsplit=1)
        if len(parts) < 2:
            return [_text("admin_usage", usage=USAGE["catatan"])]
        found = self._ticket_for(chat, parts[0])
        if not isinstance(found, TicketView):
            return [found]
        self.service.add_note(found.code, actor=f"{msg.actor} @{chat.opd_id}", note=parts[1])
        return [_text("admin_done_note", code=found.code)]

    def _cmd_tiket(self, chat: AdminChat, msg: AdminMessage, args: str) -> list[dict[str, Any]]:
        if not args.split():
            return [_text("admin_usage", usage=USAGE["tiket"])]
        found = self._ticket_for(chat, args.split()[0])
        if not isinstance(found, TicketView):
            return [found]
        return [{"text": notify.ticket_detail(self.taxonomy, found, full=notify.may_see_content(chat.opd_id, found))}]

    def _cmd_antrian(self, chat: AdminChat, msg: AdminMessage, args: str) -> list[dict[str, Any]]:
        tickets = self.service.open_queue(None if chat.is_coordinator else chat.opd_id)
        if not tickets:
            return [_text("admin_queue_empty")]
        lines = [render("admin_queue_head", count=len(tickets))]
        lines += [
            render(
                "admin_queue_line",
                code=t.code,
                category=t.category_label,
                status_label=t.status_label,
                due=t.due_text,
            )
            for t in tickets
        ]
        return [{"text": "\n".join(lines)}]

    def _cmd_balas(self, chat: AdminChat, msg: AdminMessage, args: str) -> list[dict[str, Any]]:
        parts = args.split(maxsplit=1)
        if len(parts) < 2:
            return [_text("admin_usage", usage=USAGE["balas"])]
        found = self._ticket_for(chat, parts[0])
        if not isinstance(found, TicketView):
            return [found]
        self.reply_to_citizen(chat, msg, found, parts[1])
        return [_text("admin_done_reply", code=found.code)]

    def reply_to_citizen(self, chat: AdminChat, msg: AdminMessage, view: TicketView, text: str) -> None:
        """The petugas' words to the citizen, prefixed with the OPD, and an audit event, in one commit.

        It opens (or keeps open) the citizen's conversation with the petugas; when it opens, the
        citizen is told once how to go back to the assistant.
        """
        body = render("petugas_message", opd=self._opd_name(chat), text=text.strip()[:MAX_REPLY])
        citizen_channel, _, citizen_user = view.citizen_sender.partition(":")
        with self.sessions() as session, session.begin():
            ticket_id = session.scalar(select(m.Ticket.id).where(m.Ticket.code == view.code))
            opened = conversation.open_conversation(
                session,
                channel=citizen_channel,
                user_id=citizen_user,
                chat_id=view.chat_id,
                ticket_id=ticket_id,
                opened_by=f"{msg.actor} @{chat.opd_id}",
            )
            if opened.created:
                body += "\n\n" + render("relay_how_to_return")
            session.add(
                m.TicketEvent(
                    ticket_id=ticket_id,
                    actor=f"{msg.actor} @{chat.opd_id}",
                    from_status=view.status,
                    to_status=view.status,
                    from_opd=view.opd_id,
                    to_opd=view.opd_id,
                    note=f"Pesan ke warga: {mask_text(text.strip())[:500]}",
                    internal=True,
                )
            )
            notify.to_citizen(session, view, body, ticket_id=ticket_id)

    def _ticket_id(self, code: str) -> int | None:
        with self.sessions() as session:
            return session.scalar(select(m.Ticket.id).where(m.Ticket.code == code))

    def _opd_name(self, chat: AdminChat) -> str:
        return self.taxonomy.opds[chat.opd_id].name if chat.opd_id in self.taxonomy.opds else chat.opd_id

    def _reply_in_topic(self, chat: AdminChat, msg: AdminMessage, text: str) -> list[dict[str, Any]] | None:
        """Anything written in a ticket's forum topic goes to that ticket's citizen."""
        with self.sessions() as session:
            code = session.scalar(
                select(m.Ticket.code)
                .join(m.AdminTopic, m.AdminTopic.ticket_id == m.Ticket.id)
                .where(
                    m.AdminTopic.channel == msg.channel,
                    m.AdminTopic.chat_id == msg.chat_id,
                    m.AdminTopic.thread_id == msg.thread_id,
                )
            )
        if code is None:
            return None
        found = self._ticket_for(chat, code)
        if not isinstance(found, TicketView):
            return [found]
        self.reply_to_citizen(chat, msg, found, text)
        return [_text("admin_done_reply", code=found.code)]

    def _reply_by_quote(self, chat: AdminChat, msg: AdminMessage, text: str) -> list[dict[str, Any]]:
        """An admin replied to (quoted) a bot post: it goes to that ticket's or conversation's citizen."""
        with self.sessions() as session:
            ref = session.scalars(
                select(m.MessageRef).where(
                    m.MessageRef.channel == msg.channel,
                    m.MessageRef.chat_id == msg.chat_id,
                    m.MessageRef.message_id == str(msg.reply_to),
                )
            ).one_or_none()
            code = session.get(m.Ticket, ref.ticket_id).code if ref is not None and ref.ticket_id else None
            conversation_id = ref.conversation_id if ref is not None else None
            prompt = session.get(m.OutboxMessage, ref.outbox_id) if ref is not None and ref.outbox_id else None
            awaiting = (prompt.payload or {}).get("_await") if prompt is not None else None
        if code is not None:
            found = self._ticket_for(chat, code)
            if not isinstance(found, TicketView):
                return [found]
            if awaiting:  # the answer to "reply with the reason": finish the button's action
                if awaiting.get("action") == "tolak":
                    return self._change(chat, msg, found.code, Status.DITOLAK.value, text)
                if awaiting.get("action") == "dispo":
                    return self._change(chat, msg, found.code, Status.DIDISPOSISIKAN.value, text, awaiting["opd"])
            self.reply_to_citizen(chat, msg, found, text)
            return [_text("admin_done_reply", code=found.code)]
        if conversation_id is not None and (chat.is_coordinator or chat.opd_id == self.taxonomy.coordinator_opd):
            with self.sessions() as session, session.begin():
                conv = session.get(m.RelayConversation, conversation_id)
                if conv is None or conv.closed_at is not None:
                    return [_text("admin_no_conversation", code="-")]
                conv.last_message_at = datetime.now(UTC)
                body = render("petugas_message", opd=self._opd_name(chat), text=text.strip()[:MAX_REPLY])
                notify.queue(session, conv.channel, conv.chat_id, {"text": body})
            return [_text("admin_done_reply", code="-")]
        return [_text("admin_reply_unknown")] if ref is None else []

    # --- citizens in a conversation with a petugas --------------------------------------------

    def _citizen(self, msg: AdminMessage, text: str) -> list[dict[str, Any]] | None:
        """While a conversation is open the citizen's messages go to the petugas, not to Rasa."""
        with self.sessions() as session, session.begin():
            conv = conversation.active(session, msg.channel, msg.user_id)
            if conv is None:
                return None
            ticket = session.get(m.Ticket, conv.ticket_id) if conv.ticket_id else None
            if text.lower() in conversation.CLOSE_WORDS:
                conversation.close(session, conv, f"warga:{msg.channel}:{msg.user_id}")
                conversation.to_admins(
                    session,
                    self.taxonomy,
                    ticket,
                    render("admin_citizen_closed", code=ticket.code if ticket else "-"),
                    buttons=False,
                )
                return [_text("relay_closed_by_citizen")]
            shown = text if msg.kind in ("text", "postback") and text else render("relay_non_text", kind=msg.kind)
            conversation.citizen_wrote(session, self.taxonomy, conv, shown)
            if msg.message_id:  # both ends of the relay are recorded: the citizen's message id too
                conversation.record_citizen_message(session, conv, msg.channel, msg.chat_id, msg.message_id)
            return []

    # --- buttons --------------------------------------------------------------------------

    def _button(self, chat: AdminChat, msg: AdminMessage, data: str) -> list[dict[str, Any]]:
        action, _, rest = data.partition(":")
        code, _, opd = rest.partition(":")
        if action == "proses":
            return self._change(chat, msg, code, Status.DIPROSES.value, None)
        if action == "selesai":
            return self._change(chat, msg, code, Status.SELESAI.value, None)
        found = self._ticket_for(chat, code)
        if not isinstance(found, TicketView):
            return [found]
        ticket_id = self._ticket_id(found.code)
        if action == "tolak":
            return [
                {**_text("admin_ask_reason", code=found.code), "_ticket_id": ticket_id, "_await": {"action": "tolak"}}
            ]
        if action == "balas":
            return [_text("admin_ask_reply", code=found.code)]
        if action == "tutup":
            with self.sessions() as session, session.begin():
                ticket_id = session.scalar(select(m.Ticket.id).where(m.Ticket.code == found.code))
                conv = conversation.close_for_ticket(session, ticket_id, f"{msg.actor} @{chat.opd_id}")
                if conv is None:
                    return [_text("admin_no_conversation", code=found.code)]
                notify.queue(session, conv.channel, conv.chat_id, _text("relay_closed_by_admin"), ticket_id=ticket_id)
            return [_text("admin_done_close", code=found.code)]
        if action == "dispo" and not opd:
            buttons = [
                {"title": o.name[:40], "payload": f"{BUTTON_PREFIX}dispo:{found.code}:{o.id}"}
                for o in self.taxonomy.opds.values()
                if o.id != found.opd_id
            ]
            return [{**_text("admin_pick_opd", code=found.code), "buttons": buttons}]
        if action == "dispo":
            if opd not in self.taxonomy.opds:
                return [_text("admin_unknown_opd", opd=opd, choices=", ".join(self.taxonomy.opds))]
            return [
                {
                    **_text(
                        "admin_ask_reroute_reason", code=found.code, opd=opd, opd_name=self.taxonomy.opds[opd].name
                    ),
                    "_ticket_id": ticket_id,
                    "_await": {"action": "dispo", "opd": opd},
                }
            ]
        return [_text("admin_unknown_command")]
