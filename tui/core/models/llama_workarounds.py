"""Work-arounds for llama-cpp-python and the ggml it builds, in one place.

**AMX.** On a CPU with Intel AMX (Sapphire Rapids and later: ``amx_int8`` among the flags
in ``/proc/cpuinfo``), llama-cpp-python's default build (``-march=native``) moves the
weights into ggml's AMX buffer, one of its "extra buffer types", and the first batched
matrix product crashes the whole process (SIGSEGV in ``ggml_backend_amx_mul_mat``;
ggml-org/llama.cpp#20824, closed as stale without a fix; dspy removed the AMX variant from
its CI for the same crash). Seen here with llama-cpp-python 0.3.36 on a 2-core Xeon VM: a
chat completion on the bundled model killed ``agents-tui run``, the TUI and every test of
the bundled model (a plain completion of a few tokens did not crash). On such a CPU the
models are loaded with ``llama_model_params.use_extra_bufts = False``: the weights stay in
ordinary CPU buffers (the bundled Q4_1 model has no repacked form on x86 anyway). Nothing
changes on other CPUs. ``AGENTS_TUI_LLAMA_EXTRA_BUFFERS=on`` keeps ggml's choice.

``install()`` is called before any ``Llama`` is made (the engine, the tool scorer); it is
idempotent and checked on the llama-cpp-python versions in ``TESTED``.
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

TESTED = ("0.3.36",)  # the versions the work-around was checked on
_installed = False


@functools.cache
def cpu_has_amx() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return "amx_int8" in flags or "amx_tile" in flags


def install() -> bool:
    """Load models without ggml's extra buffer types on an AMX CPU; True if it did."""
    global _installed
    if _installed:
        return True
    if os.environ.get("AGENTS_TUI_LLAMA_EXTRA_BUFFERS", "").lower() == "on" or not cpu_has_amx():
        return False
    import llama_cpp
    from llama_cpp import llama_cpp as low_level

    default_params = low_level.llama_model_default_params
    if "use_extra_bufts" not in {field[0] for field in low_level.llama_model_params._fields_}:
        return False  # an older ggml: no extra buffer types to turn off
    if llama_cpp.__version__ not in TESTED:
        logging.getLogger("agents_tui").info(
            "llama-cpp-python %s: the AMX work-around was checked on %s",
            llama_cpp.__version__,
            ", ".join(TESTED),
        )

    def without_extra_buffers() -> low_level.llama_model_params:
        params: low_level.llama_model_params = default_params()
        params.use_extra_bufts = False
        return params

    low_level.llama_model_default_params = without_extra_buffers
    _installed = True
    return True
