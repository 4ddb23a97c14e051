"""How replies are shaped for each channel's limits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.gateway.channels.line import MAX_LABEL, MAX_QUICK_REPLIES, to_line_messages
from bot.gateway.channels.telegram import MAX_CALLBACK_DATA, MAX_MESSAGE, TITLE_PREFIX, keyboard, split_text
from bot.gateway.pipeline import reply_payloads


@given(st.text(min_size=1, max_size=20_000))
def test_split_never_exceeds_the_limit_and_loses_no_words(text: str) -> None:
    parts = split_text(text)
    assert all(len(p) <= MAX_MESSAGE for p in parts)
    assert "".join(text.split()) == "".join("".join(parts).split())


def test_split_prefers_paragraphs() -> None:
    text = ("a" * 3000) + "\n\n" + ("b" * 3000)
    assert split_text(text) == ["a" * 3000, "b" * 3000]


def test_long_callback_data_falls_back_to_the_title() -> None:
    markup = keyboard([{"title": "Kategori", "payload": '/choose_category{"category":"' + "x" * 80 + '"}'}])
    data = markup.inline_keyboard[0][0].callback_data
    assert len(data.encode()) <= MAX_CALLBACK_DATA and data.startswith(TITLE_PREFIX)


def test_line_quick_replies_respect_limits() -> None:
    buttons = [{"title": f"Pilihan nomor {i} yang panjang sekali", "payload": f"/x{i}"} for i in range(20)]
    (message,) = to_line_messages([{"text": "pilih", "buttons": buttons}])
    items = message.quick_reply.items
    assert len(items) == MAX_QUICK_REPLIES
    assert all(len(item.action.label) <= MAX_LABEL for item in items)


def test_rasa_parts_are_joined_into_one_message() -> None:
    replies = [
        {"text": "Terima kasih"},
        {"text": "Kode: ADU-2345678"},
        {"text": "Lanjut?", "buttons": [{"title": "Ya"}]},
    ]
    (payload,) = reply_payloads(replies, {})
    assert payload["text"] == "Terima kasih\n\nKode: ADU-2345678\n\nLanjut?" and payload["buttons"]
