"""The sign-in widget under its first names (``DeviceLoginWidget``); see ``widgets.sign_in``."""

from __future__ import annotations

from .sign_in import SignInWidget, signed_in_text

DeviceLoginWidget = SignInWidget  # the name the README and older notebooks use

__all__ = ["DeviceLoginWidget", "SignInWidget", "signed_in_text"]
