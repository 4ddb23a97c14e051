"""LINE admin posts: the text stays quotable, the buttons come as a Flex card of postbacks."""

from __future__ import annotations

from linebot.v3.messaging import FlexMessage, TextMessage

from bot.gateway.channels.line import to_line_messages


def test_admin_post_is_text_plus_flex_card_and_citizen_buttons_stay_quick_replies() -> None:
    buttons = [{"title": t, "payload": f"adm:{t.lower()}:ADU-2345678"} for t in ("Proses", "Selesai", "Tolak")]
    text, card = to_line_messages([{"text": "🆕 Laporan baru ADU-2345678\nKategori: Jalan", "buttons": buttons}])
    assert isinstance(text, TextMessage) and text.quick_reply is None
    assert isinstance(card, FlexMessage)
    body = card.to_dict()["contents"]["body"]["contents"]
    assert [c["action"]["data"] for c in body if c["type"] == "button"] == [b["payload"] for b in buttons]
    assert card.alt_text == "🆕 Laporan baru ADU-2345678"

    (citizen,) = to_line_messages([{"text": "Pilih", "buttons": [{"title": "Biasa", "payload": "/privacy"}]}])
    assert isinstance(citizen, TextMessage) and citizen.quick_reply is not None


def test_photo_ref_becomes_a_signed_url_or_an_honest_caption() -> None:
    payload = {"image_ref": "media:abc.jpg", "caption": "Foto 1 · ADU-2345678"}
    (image,) = to_line_messages([payload], lambda ref: f"https://aduan.example/media/{ref[6:]}?exp=1&sig=x")
    assert image.original_content_url.startswith("https://aduan.example/media/abc.jpg")
    (fallback,) = to_line_messages([payload])
    assert isinstance(fallback, TextMessage) and fallback.text == "Foto 1 · ADU-2345678"
