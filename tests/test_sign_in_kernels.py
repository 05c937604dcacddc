"""Two kernels sharing the exls keyring cooperate: no refresh-token reuse (issue #13, finding 4).

Two real processes read one file-backed keyring (the exls key names) and call the sandbox's API
for 30 s with 2 s tokens. Each renewal re-reads the stored sign-in under a lock both processes
honour, so no refresh token is used twice, no call fails and the stored entries still work.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from exalsius_jupyter.auth.device import DeviceLogin
from exalsius_jupyter.auth.keyring_store import KEYRING_SERVICE
from exalsius_jupyter.auth.provider import refresh_tokens
from exalsius_jupyter.auth.settings import AuthSettings
from exalsius_jupyter.auth.tokens import Tokens
from exalsius_jupyter.sandbox import Sandbox

SECONDS = 30.0
BACKEND = '''
"""A keyring backend in one JSON file (path in $TEST_KEYRING_FILE), written atomically."""
import json, os
from pathlib import Path
import keyring.backend, keyring.errors

PATH = Path(os.environ["TEST_KEYRING_FILE"])


class FileKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def _load(self):
        return json.loads(PATH.read_text()) if PATH.exists() else {}

    def _store(self, data):
        tmp = PATH.with_name(f"{PATH.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, PATH)

    def get_password(self, service, username):
        return self._load().get(service, {}).get(username)

    def set_password(self, service, username, password):
        data = self._load()
        data.setdefault(service, {})[username] = password
        self._store(data)

    def delete_password(self, service, username):
        data = self._load()
        if username not in data.get(service, {}):
            raise keyring.errors.PasswordDeleteError(username)
        del data[service][username]
        self._store(data)
'''
KERNEL = '''
import json, sys, time
from exalsius_jupyter.api.client import ExalsiusClient
from exalsius_jupyter.auth.keyring_store import KeyringTokens
from exalsius_jupyter.auth.settings import AuthSettings

api, issuer, client_id, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
source = KeyringTokens(AuthSettings(issuer=issuer, client_id=client_id, timeout=5))
client = ExalsiusClient(api, token=source, timeout=5)
ok, failed, errors = 0, 0, []
end = time.monotonic() + seconds
while time.monotonic() < end:
    try:
        client.list_workspaces()
        ok += 1
    except Exception as exc:
        failed += 1
        errors.append(f"{type(exc).__name__}: {exc}")
    time.sleep(0.05)
print(json.dumps({"ok": ok, "failed": failed, "errors": errors[:5],
                  "refreshes": source.renewal().refreshes}))
'''


@pytest.fixture
def sb() -> Sandbox:
    with Sandbox(auth=True, device_interval=0.2, token_ttl=2, seed=1) as sandbox:
        yield sandbox


def test_two_kernels_sharing_the_keyring_never_reuse_a_refresh_token(
        sb: Sandbox, tmp_path: Path) -> None:
    pytest.importorskip("keyring")
    assert sb.issuer_url is not None and sb.idp is not None
    settings = AuthSettings(issuer=sb.issuer_url, client_id=sb.idp.client_id, timeout=5)
    login = DeviceLogin(settings)
    code = login.start()
    import requests

    requests.post(sb.issuer_url + "activate", data={"user_code": code.user_code,
                                                   "action": "approve"}, timeout=5)
    tokens = login.wait()
    login.close()
    (tmp_path / "filekr.py").write_text(textwrap.dedent(BACKEND))
    keyring_file = tmp_path / "keyring.json"
    key = sb.idp.client_id
    keyring_file.write_text(json.dumps({KEYRING_SERVICE: {
        f"{key}_access_token": tokens.access_token,
        f"{key}_refresh_token": tokens.refresh_token,
        f"{key}_expiry": tokens.expires_at.isoformat()}}))
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "filekr.FileKeyring",
           "TEST_KEYRING_FILE": str(keyring_file), "EXALSIUS_LOCK_DIR": str(tmp_path),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    env.pop("EXALSIUS_TOKEN", None)
    kernels = [subprocess.Popen([sys.executable, "-c", KERNEL, sb.url, sb.issuer_url, key,
                                 str(SECONDS)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = []
    for kernel in kernels:
        out, err = kernel.communicate(timeout=SECONDS + 60)
        assert kernel.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    counts = sb.auth_counts()
    print(f"\n2 kernels, {SECONDS:g} s, 2 s tokens: {results}, provider: {counts}",
          file=sys.__stderr__)
    assert counts["reuse_detected"] == 0, (results, counts)
    assert all(r["failed"] == 0 and r["ok"] > 50 for r in results), results
    assert counts["refreshes"] >= SECONDS / 2 * 0.5  # the tokens really were renewed
    stored = json.loads(keyring_file.read_text())[KEYRING_SERVICE]
    renewed = refresh_tokens(settings, stored[f"{key}_refresh_token"])  # exls can go on
    assert isinstance(renewed, Tokens) and sb.auth_counts()["reuse_detected"] == 0


def test_a_lock_another_process_holds_is_waited_for_within_the_deadline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from exalsius_jupyter.auth.filelock import held, lock_path
    from exalsius_jupyter.errors import RequestTimeoutError

    monkeypatch.setenv("EXALSIUS_LOCK_DIR", str(tmp_path))
    path = lock_path("x.lock")
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        f"sys.path[:0] = {sys.path!r}\n"
        "from pathlib import Path\n"
        "from exalsius_jupyter.auth.filelock import held\n"
        f"with held(Path({str(path)!r}), 5):\n"
        "    print('held', flush=True); time.sleep(30)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        began = time.monotonic()
        with pytest.raises(RequestTimeoutError, match="another kernel"), held(path, 0.5):
            pass
        assert time.monotonic() - began < 0.5 + 1.0
    finally:
        holder.kill()
        holder.wait(5)
    with held(path, 2.0):  # free again once the holder is gone
        assert path.exists()
