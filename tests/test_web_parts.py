"""The web sessions' parts are made on the server's event loop when it has nothing else to do, and
at once for a tab that waits (no browser, no server: a loop of our own kept busy)."""

from __future__ import annotations

import asyncio
import time
import wave
from io import BytesIO

import pytest

from ui import web_parts
from ui.soundpack import SoundPack
from ui.vox import VOX_WORDS
from ui.web_parts import PartsMaker, WebParts

BUSY_BLOCK = 0.02  # the busy loop blocks this long at a time: no sleep of the maker ends on time


async def _busy(seconds: float) -> float:
    """Keeps the loop busy for `seconds` (as serving a browser would); returns when it stopped."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(BUSY_BLOCK)
        await asyncio.sleep(0)
    return time.monotonic()


async def _make(maker: PartsMaker, busy: float, ask_at_once: bool) -> tuple[float, float | None]:
    """When the parts were there, and when a busy spell of `busy` seconds (started with the maker)
    ended, None if it had not; `ask_at_once`: a tab waits for them from the start."""
    making = asyncio.create_task(maker.make())
    spell = asyncio.create_task(_busy(busy))
    await (maker.parts() if ask_at_once else making)
    made = time.monotonic()
    ended = spell.result() if spell.done() else None
    spell.cancel()
    return made, ended


def test_every_tab_gets_the_same_parts() -> None:
    async def scenario() -> tuple[WebParts, WebParts]:
        maker = PartsMaker(SoundPack())
        making = asyncio.create_task(maker.make())
        first, second = await asyncio.gather(maker.parts(), maker.parts())
        await making
        return first, second

    first, second = asyncio.run(scenario())
    assert first is second
    pack = SoundPack()
    assert [(b.name, b.src) for b in first.backgrounds] == [
        (name, pack.asset_url(path)) for name, path in pack.backgrounds()]
    with wave.open(BytesIO(first.bank.sentence(["one"], 1.0))) as spoken:
        assert spoken.getnframes() > 0


def test_the_announcer_words_are_decoded_after_the_parts_a_word_at_a_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_parts, "WORD_PACE", 0.001)
    prepared: list[tuple[str, bool]] = []  # (word, whether the waiting tab had its parts by then)

    class Pack(SoundPack):
        def prepare(self, word: str) -> None:
            prepared.append((word, tabs[0].done()))
            super().prepare(word)

    async def scenario() -> None:
        tabs.append(asyncio.create_task(maker.parts()))
        await maker.run()

    maker = PartsMaker(Pack())
    tabs: list[asyncio.Task[WebParts]] = []
    asyncio.run(scenario())
    assert sorted(word for word, _ in prepared) == sorted(VOX_WORDS)
    assert all(had_parts for _, had_parts in prepared)


def test_nothing_is_made_while_the_loop_is_busy() -> None:
    made, ended = asyncio.run(_make(PartsMaker(SoundPack()), busy=0.4, ask_at_once=False))
    assert ended is not None and made >= ended  # every step waited for the busy spell to end


def test_a_loop_that_is_never_quiet_gets_them_after_the_patience(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_parts, "QUIET_PATIENCE", 0.1)
    started = time.monotonic()
    made, ended = asyncio.run(_make(PartsMaker(SoundPack()), busy=30.0, ask_at_once=False))
    assert ended is None and made - started < 10  # 0.1 s of patience per step, and the work


def test_a_waiting_tab_stops_the_waiting_for_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_parts, "QUIET_PATIENCE", 60.0)
    started = time.monotonic()
    made, ended = asyncio.run(_make(PartsMaker(SoundPack()), busy=30.0, ask_at_once=True))
    assert ended is None and made - started < 10


def test_a_failure_reaches_the_waiting_tab(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(pack: SoundPack) -> None:
        raise OSError("the assets folder went away")

    monkeypatch.setattr("ui.sound_out_web.WebSoundBank", broken)

    async def scenario() -> None:
        maker = PartsMaker(SoundPack())
        making = asyncio.create_task(maker.make())
        with pytest.raises(OSError, match="went away"):
            await maker.parts()
        await making

    asyncio.run(scenario())
