"""An answer into a forum topic that an admin has since deleted goes to the group itself.

Before, such a row failed with "message thread not found" on every attempt and, since a chat's rows
go out in order, held back every later message for that group (the relay e2e test caught it when
the topic was deleted between a petugas's reply and its acknowledgement).
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.gateway.channels.telegram import TelegramChannel
from bot.gateway.outbox import OutMessage
from tests.support.fake_telegram import FakeTelegramServer

GROUP = -1001234567


async def test_a_row_for_a_deleted_topic_is_sent_to_the_group() -> None:
    fake = FakeTelegramServer()
    await fake.start()
    channel = TelegramChannel(fake.token or "", fake.root_url, inbox=None, on_inbound=lambda: None)  # type: ignore[arg-type]
    await channel.app.initialize()
    try:
        fake.make_forum(GROUP)
        topic = (await channel.app.bot.create_forum_topic(GROUP, "ADU-TEST123 · Jalan")).message_thread_id
        fake.delete_topic(GROUP, topic)
        row = OutMessage(
            1,
            "telegram",
            str(GROUP),
            {"text": "✉️ Pesan untuk warga sudah dikirim.", "_thread_id": topic},
            None,
            1,
            datetime.now(UTC),
        )
        delivery = await channel.send(str(GROUP), [row])
        assert delivery.ids[1]
        [sent] = fake.sent(GROUP, "sendMessage")
        assert sent["text"] == "✉️ Pesan untuk warga sudah dikirim."
        assert not sent["params"].get("message_thread_id")
    finally:
        await channel.app.shutdown()
        await fake.stop()
