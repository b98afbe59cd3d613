"""The values at the bot's edges."""

from __future__ import annotations

from bot.types import Inbound


def test_inbound_drops_control_characters_and_lone_surrogates() -> None:
    inbound = Inbound(
        channel="telegram",
        chat_id="1",
        message_id="m1",
        text="tomorrow\x00 at\x1b 3\ud83d\tpm\r\n✂️",
        sender_name="Pat\x07",
    )
    assert inbound.text == "tomorrow at 3\ufffd\tpm\r\n✂️"
    assert inbound.sender_name == "Pat"
    assert inbound.text.encode("utf-8"), "always encodable, for the store and the platforms"
