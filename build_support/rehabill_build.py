"""rehabill's build backend: setuptools, plus mypy (for mypyc) when the core is to be compiled.

``REHABILL_COMPILE=1 pip install .`` builds the pure core as C extensions with mypyc (see
``setup.py``); the isolated build environment then needs mypy, which a plain build does not.
Everything else is setuptools' own backend.
"""

from __future__ import annotations

import os

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403  (the backend's hooks, re-exported)

MYPYC = "mypy==2.4.1"  # the same mypy as the type check ([project.optional-dependencies] test)


def _compiling() -> bool:
    return os.environ.get("REHABILL_COMPILE", "") == "1"


def get_requires_for_build_wheel(config_settings=None):  # type: ignore[no-untyped-def]
    """setuptools' requirements, or mypy when compiling.

    setuptools finds its own by running ``setup.py``, which imports mypyc when compiling: that
    pass would fail before mypy is installed, and ``setup.py`` asks for nothing more anyway.
    """
    if _compiling():
        return [MYPYC]
    return _setuptools.get_requires_for_build_wheel(config_settings)
