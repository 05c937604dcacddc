"""The ``%exalsius`` magics: ``magic.py`` (traits, one dispatch) over ``commands/`` (one module
per subcommand), with the kernel's state in :mod:`exalsius_jupyter.session`.

``register``/``unregister`` are what ``%load_ext``/``%unload_ext exalsius_jupyter`` call.
"""

from __future__ import annotations

from .magic import Exalsius, ExalsiusMagics, register, unregister

__all__ = ["Exalsius", "ExalsiusMagics", "register", "unregister"]
