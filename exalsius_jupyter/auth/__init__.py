"""Signing in to exalsius: token sources, the device flow, renewal and revocation.

The modules, lowest first: ``settings`` (where to sign in), ``tokens`` (what a provider
answered), ``provider`` (the identity provider over the watched transport), ``device`` (the
RFC 8628 flow), ``renewal`` (a sign-in that renews itself), ``command`` and ``keyring_store``
(the other sources), ``sources`` (their precedence) and ``sign_in`` (the kernel's sign-in state).
Nothing here imports IPython or ipywidgets. No token, refresh token, ID token or device code is
ever part of a repr, a str, an error message or a log record.
"""
