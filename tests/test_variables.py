"""Template variables as tables: dotted paths typed by the template, secrets named and masked."""

from __future__ import annotations

from typing import Any

import pytest

from exalsius_jupyter.errors import ValidationError
from exalsius_jupyter.model.variables import (
    MASK,
    is_secret,
    mask,
    mask_text,
    masked_variables,
    secret_paths,
    secret_values,
    set_path,
)

TEMPLATE: dict[str, Any] = {
    "global": {"deploymentName": "nb", "deploymentNamespace": "default"},
    "deploymentNumReplicas": 1,
    "notebookPassword": "",
    "resources": {"gpu": 1, "memoryRatio": 0.5},
    "ms": {"decode": {"parallelism": {"tensor": 1}}, "modelArtifacts": {"uri": "hf://x"},
           "tags": ["a"]},
    "enabled": False,
    "huggingfaceToken": "",
}

SETS = [
    ("int", "deploymentNumReplicas", "3", 3),
    ("nested-int", "ms.decode.parallelism.tensor", "2", 2),
    ("float", "resources.memoryRatio", "0.75", 0.75),
    ("float-from-int-text", "resources.memoryRatio", "1", 1.0),
    ("bool", "enabled", "TRUE", True),
    ("string", "ms.modelArtifacts.uri", "hf://meta-llama/Llama-3", "hf://meta-llama/Llama-3"),
    ("object-as-json", "global", '{"deploymentName": "x"}', {"deploymentName": "x"}),
    ("list-as-json", "ms.tags", '["b", "c"]', ["b", "c"]),
    ("python-object-kept", "global", {"deploymentName": "y"}, {"deploymentName": "y"}),
    ("python-int-kept", "deploymentNumReplicas", 4, 4),
    ("secret-string", "notebookPassword", "s3cret-pw", "s3cret-pw"),
]


@pytest.mark.parametrize(("path", "value", "expected"), [s[1:] for s in SETS],
                         ids=[s[0] for s in SETS])
def test_set_path_takes_the_templates_type(path: str, value: Any, expected: Any) -> None:
    out = set_path(TEMPLATE, path, value)
    node: Any = out
    for key in path.split("."):
        node = node[key]
    assert node == expected and type(node) is type(expected)
    assert TEMPLATE["deploymentNumReplicas"] == 1 and TEMPLATE["global"]["deploymentName"] == "nb"


BAD = [
    ("missing-with-hint", "deploymentNumReplica", "1", "has no 'deploymentNumReplica' (did you "
     "mean deploymentNumReplicas?)"),
    ("missing-nested-lists-keys", "ms.decode.zzz", "1", "ms.decode has no 'zzz' (it has: "
     "parallelism)"),
    ("through-a-number", "deploymentNumReplicas.x", "1", "deploymentNumReplicas is a number, "
     "not an object"),
    ("not-a-number", "deploymentNumReplicas", "two", "is a number in the template; 'two' is "
     "not one"),
    ("not-a-bool", "enabled", "yes", "is a boolean in the template"),
    ("json-of-wrong-kind", "global", "[1]", "is a object in the template"),
    ("wrong-python-type", "deploymentNumReplicas", ["x"], "is a number in the template, not a "
     "list"),
    ("empty-part", "ms..uri", "x", "bad variable path 'ms..uri'"),
]


@pytest.mark.parametrize(("path", "value", "message"), [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_bad_paths_and_values_are_one_line(path: str, value: Any, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        set_path(TEMPLATE, path, value)
    assert message in str(caught.value) and "\n" not in str(caught.value), str(caught.value)


NAMES = [
    ("notebookPassword", True), ("tokenPassword", True), ("sshPassword", True),
    ("huggingfaceToken", True), ("inferenceApiKey", True), ("api_key", True),
    ("CLIENT_SECRET", True), ("accessKey", True), ("apikey", True),
    ("sshPublicKey", False), ("public_key", False), ("deploymentNamespace", False),
    ("monkey", False), ("keyboardLayout", False), ("tokenizerName", False),
    ("deploymentName", False),
]


@pytest.mark.parametrize(("name", "secret"), NAMES, ids=[n for n, _ in NAMES])
def test_which_names_are_secrets(name: str, secret: bool) -> None:
    assert is_secret(name) is secret


def test_secrets_are_found_and_masked_nested() -> None:
    filled = set_path(set_path(TEMPLATE, "notebookPassword", "hunter22"), "huggingfaceToken",
                      "hf_abcdefgh")
    filled["ms"]["auth"] = {"inferenceApiKey": "sk-123456", "user": "ada"}
    assert secret_paths(filled) == ["notebookPassword", "ms.auth.inferenceApiKey",
                                    "huggingfaceToken"]  # in the template's order
    shown = masked_variables(filled)
    assert shown["notebookPassword"] == MASK and shown["huggingfaceToken"] == MASK
    assert shown["ms"]["auth"] == {"inferenceApiKey": MASK, "user": "ada"}
    assert shown["global"] == TEMPLATE["global"]  # nothing else touched
    assert masked_variables(TEMPLATE)["notebookPassword"] == ""  # an empty one is not hidden
    values = secret_values(filled)
    assert sorted(values) == ["hf_abcdefgh", "hunter22", "sk-123456"]
    text = 'error: {"notebookPassword": "hunter22"}; token hf_abcdefgh; pw hunter2'
    masked = f'error: {{"notebookPassword": "{MASK}"}}; token {MASK}; pw hunter2'
    assert mask_text(text, values) == masked


TEXTS = [
    ("longest-first", "a-secret-value and a-secret", ["a-secret", "a-secret-value"],
     f"{MASK} and {MASK}"),
    ("short-alone-masked", "pw x1 in text", ["x1"], f"pw {MASK} in text"),
    ("short-inside-a-word-kept", "ax1b and x12", ["x1"], "ax1b and x12"),
    ("json-escaped", 'say "q\\"uote"', ['q"uote'], f'say "{MASK}"'),
    ("short-json-escaped", '{"pw": "a\\"b"}', ['a"b'], f'{{"pw": "{MASK}"}}'),
    ("every-occurrence", "hunter22/hunter22", ["hunter22"], f"{MASK}/{MASK}"),
    ("empty-secret-ignored", "text", [""], "text"),
]


@pytest.mark.parametrize(("text", "secrets", "expected"), [t[1:] for t in TEXTS],
                         ids=[t[0] for t in TEXTS])
def test_mask_text_never_leaves_a_part(text: str, secrets: list[str], expected: str) -> None:
    assert mask_text(text, secrets) == expected


MASKS = [("text", "pw", MASK), ("number", 1234, MASK), ("false", False, MASK),
         ("empty-shown", "", ""), ("unset-shown", None, None)]


@pytest.mark.parametrize(("value", "expected"), [m[1:] for m in MASKS], ids=[m[0] for m in MASKS])
def test_mask_hides_every_set_value(value: Any, expected: Any) -> None:
    assert mask(value) == expected


def test_masked_variables_masks_inside_lists() -> None:
    shown = masked_variables({"users": [{"name": "ada", "password": "pw1"}], "apiKey": ["k"]})
    assert shown == {"users": [{"name": "ada", "password": MASK}], "apiKey": MASK}
