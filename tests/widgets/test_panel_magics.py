"""``%chat panel`` in a real IPython shell: the panel, ``%chat set`` and ``%config`` agree."""

from __future__ import annotations

from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import nscale_jupyter._api as api
from tests.magics.conftest import Server, ip, server  # noqa: F401  (fixtures)


def test_panel_set_and_config_show_one_settings_object(ip: InteractiveShell) -> None:  # noqa: F811
    with capture_output():
        ip.run_line_magic("chat", "panel")
    panel = ip.find_line_magic("chat").__self__.last_panel
    temperature = panel.controls["temperature"]
    ip.run_line_magic("chat", "set temperature=0.2 seed=3")
    assert temperature.enabled.value and temperature.value.value == 0.2
    assert panel.controls["seed"].value.value == 3
    ip.run_line_magic("config", "ChatSettings.temperature = 0.9")
    assert temperature.value.value == 0.9
    temperature.value.value = 1.25
    panel.controls["seed"].enabled.value = False
    with capture_output() as cap:
        ip.run_line_magic("chat", "settings")
    assert "temperature = 1.25" in cap.stdout and "seed" not in cap.stdout
    ip.run_line_magic("chat", "set temperature=none")
    assert not temperature.enabled.value
    assert panel.model.value == "" and api.default_session().settings.model is None


def test_panel_reruns_the_last_cell(ip: InteractiveShell, server: Server) -> None:  # noqa: F811
    import asyncio

    with capture_output():
        ip.run_cell_magic("chat", "-t 0.1", "Tell me a story.")
        ip.run_line_magic("chat", "panel")
    panel = ip.find_line_magic("chat").__self__.last_panel
    assert panel.prompt.value == "Tell me a story."
    asyncio.run(panel.run())
    assert server.last["messages"] == [{"role": "user", "content": "Tell me a story."}]
    assert "Hello!" in panel.reply_markup
