"""What every web tab's session is made with, made while the web server has nothing else to do.

The server answers before any of it is made: the sounds the browser will load, the backgrounds,
the session's modules, and one screen built that nobody sees, so Flet's first-use costs
(it imports a control's module when the control is first named, and sets up each control class on
its first use: 0.1 s, three quarters of what the first tab's session took to make) are paid before
the first tab asks. It is made a step at a time, each once the event loop has had nothing to run
for a while: the first browser loads Flet's client meanwhile (about 0.7 s here, most of it in the
browser), and the server only serves files now and then. A tab that comes before it is all made
waits for the rest, which is then made without waiting.

Then `run()` decodes the announcer's words, one every WORD_PACE, so the first sentences only join
samples already in memory. No tab waits for that (a sentence decodes the words it lacks itself), and
no step holds the loop for long: a user's own words at 48 kHz take tens of ms each.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from ui.soundpack import SoundPack
from ui.vox import VOX_WORDS

if TYPE_CHECKING:
    from ui.session import Background
    from ui.sound_out_web import WebSoundBank

log = logging.getLogger(__name__)

# The loop counts as having nothing to do after QUIET_SLEEPS sleeps of QUIET_SECONDS in a row that
# each ended within QUIET_SLACK of their time. Uvicorn's own start never leaves it that quiet, so
# no step delays the server's answering.
QUIET_SECONDS, QUIET_SLACK, QUIET_SLEEPS = 0.01, 0.002, 5
# On a machine that is never quiet (another program's load) each step waits at most this long.
QUIET_PATIENCE = 2.0
# Between two words' decoding: our 45 words (0.6 ms each) take 2 s, as the first page is drawn.
WORD_PACE = 0.05


@dataclass(frozen=True)
class WebParts:
    backgrounds: list[Background]
    bank: WebSoundBank


class PartsMaker:
    """Makes the parts once `make()` runs on the server's event loop; `parts()` waits for them."""

    def __init__(self, pack: SoundPack) -> None:
        self._pack = pack
        self._made: asyncio.Future[WebParts] | None = None
        self._hurry = asyncio.Event()  # a tab is waiting: no more waiting for quiet

    async def run(self) -> None:
        """What the server runs: make(), then the announcer's words."""
        if (made := await self.make()) is not None:
            await self._prepare_words(made.bank.pack)

    async def make(self) -> WebParts | None:
        """The parts, handed to every tab that waits; None if they could not be made."""
        loop = asyncio.get_running_loop()
        self._made = self._made or loop.create_future()
        try:
            made = await self._steps()
        except Exception as error:  # every tab gets it too, as its session's start failing
            log.exception("cannot make what the web sessions need")
            self._made.set_exception(error)
            return None
        self._made.set_result(made)
        return made

    async def parts(self) -> WebParts:
        self._hurry.set()
        if self._made is None:
            self._made = asyncio.get_running_loop().create_future()
        return await self._made

    async def _steps(self) -> WebParts:
        await self._quiet()
        import ui.web_tab  # noqa: F401  # the session's modules, its screens with them
        from ui.sound_out_web import WebSoundBank

        await self._quiet()
        from ui.session import Background

        backgrounds = Background.all_of(self._pack)
        await self._quiet()
        bank = WebSoundBank(self._pack)
        await self._quiet()
        from ui.screen import app_theme

        app_theme()
        await self._quiet()
        _unseen_screen()
        log.debug("web session parts made")
        return WebParts(backgrounds, bank)

    async def _prepare_words(self, pack: SoundPack) -> None:
        for word in sorted(VOX_WORDS):
            await asyncio.sleep(WORD_PACE)
            pack.prepare(word)
        log.debug("announcer words decoded")

    async def _quiet(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + QUIET_PATIENCE
        quiet = 0
        while quiet < QUIET_SLEEPS and not self._hurry.is_set() and loop.time() < deadline:
            asked = loop.time()
            await asyncio.sleep(QUIET_SECONDS)
            quiet = quiet + 1 if loop.time() - asked <= QUIET_SECONDS + QUIET_SLACK else 0


def _unseen_screen() -> None:
    """Builds a session's controls once, for nothing: what Flet does on a control's first use."""
    from ui.screen import build_screen
    from ui.screen_more import build_more
    from ui.session import SessionState, View
    from ui.weapons import DEFAULT_WEAPON

    state = SessionState(display="", time_input="", input_error=None, paused=False, can_pause=False,
                         background=None, weapon=DEFAULT_WEAPON, view=View.TIMER)
    actions = cast(Any, _NoActions())
    build_screen(actions, state, build_more(actions, state).root)


class _NoActions:
    """Every handler of the unseen screen: it is never on a page, so nothing calls them."""

    def __getattr__(self, name: str) -> Callable[[Any], None]:
        return _ignore


def _ignore(e: Any) -> None:
    pass
