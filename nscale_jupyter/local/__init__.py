"""A local vLLM engine for classrooms and demos with no key or network.

>>> from nscale_jupyter import local          # doctest: +SKIP
>>> engine = local.start()                    # the tiny model, on 127.0.0.1
>>> engine.base_url, engine.model
('http://127.0.0.1:41234/v1', 'tiny-chat')
>>> engine.stop()
"""

from ._engine import (
    VLLM_VERSION,
    Engine,
    EngineError,
    default_model_dir,
    engine_python,
    start,
)

__all__ = ["VLLM_VERSION", "Engine", "EngineError", "default_model_dir", "engine_python", "start"]
