"""spec.py: a create body is checked against the Workspace schema before anything is sent."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from support import make_spec

from exalsius_jupyter.errors import ValidationError
from exalsius_jupyter.model.spec import INT32_MAX, validate_workspace_spec


def _without(spec: dict[str, Any], dotted: str) -> dict[str, Any]:
    out = copy.deepcopy(spec)
    *parents, last = dotted.split(".")
    node = out
    for key in parents:
        node = node[key]
    del node[last]
    return out


def _with(spec: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(spec)
    *parents, last = dotted.split(".")
    node = out
    for key in parents:
        node = node[key]
    node[last] = value
    return out


def test_valid_spec_returns_clean_copy() -> None:
    spec = make_spec(description="mine", owner="me")
    out = validate_workspace_spec(spec)
    assert out == spec
    assert out is not spec and out["template"] is not spec["template"]


def test_minimal_spec_empty_resources_and_variables() -> None:
    spec = make_spec(resources={}, template={"name": "ssh-pod", "variables": {}})
    assert validate_workspace_spec(spec)["resources"] == {}


def test_none_optionals_are_dropped() -> None:
    spec = make_spec(description=None)
    spec["resources"]["gpu_type"] = None
    out = validate_workspace_spec(spec)
    assert "description" not in out and "gpu_type" not in out["resources"]


@pytest.mark.parametrize("field", ["name", "cluster_id", "template", "resources",
                                   "template.name", "template.variables"])
def test_missing_required_field_is_named(field: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_workspace_spec(_without(make_spec(), field))
    assert field in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", 5), ("name", ""), ("name", "   "), ("cluster_id", 7),
        ("cluster_id", "not-a-uuid"), ("template", "jupyter-notebook"), ("template.name", 3),
        ("template.variables", ["a"]), ("template.variables.port", float("nan")),
        ("template.variables.when", {1, 2}),
        ("template.description", 1), ("resources", [1, 2]), ("resources.gpu_count", "2"),
        ("resources.gpu_count", 1.5), ("resources.gpu_count", True), ("resources.cpu_cores", -1),
        ("resources.memory_gb", INT32_MAX + 1), ("resources.storage_gb", "big"),
        ("resources.gpu_type", 100), ("resources.gpu_vendor", ["nvidia"]), ("description", 3),
        ("owner", {"id": 1}),
    ],
)
def test_wrong_type_is_named(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        validate_workspace_spec(_with(make_spec(), field, value))
    assert field in str(info.value)


@pytest.mark.parametrize(("field", "value"), [("extra", 1), ("resources.gpus", 2),
                                               ("template.image", "x")])
def test_unknown_fields_are_rejected(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        validate_workspace_spec(_with(make_spec(), field, value))
    assert field in str(info.value)


@pytest.mark.parametrize("junk", [None, [], "name: x", 42])
def test_not_a_mapping(junk: Any) -> None:
    with pytest.raises(ValidationError, match="mapping"):
        validate_workspace_spec(junk)


def test_where_prefix() -> None:
    with pytest.raises(ValidationError) as info:
        validate_workspace_spec(_without(make_spec(), "name"), where="cell line 3")
    assert str(info.value).startswith("cell line 3: ")


def test_validation_error_is_value_error() -> None:
    with pytest.raises(ValueError):
        validate_workspace_spec({})


def test_int32_bounds_accepted() -> None:
    spec = _with(make_spec(), "resources.storage_gb", INT32_MAX)
    assert validate_workspace_spec(spec)["resources"]["storage_gb"] == INT32_MAX


@pytest.mark.parametrize("form", ["11111111111141118111111111111111",
                                  "{11111111-1111-4111-8111-111111111111}",
                                  "urn:uuid:11111111-1111-4111-8111-111111111111"])
def test_cluster_id_other_uuid_forms_are_sent_canonical(form: str) -> None:
    # Regression: uuid.UUID() accepts these, but the API's format: uuid (and the sandbox)
    # only takes the hyphenated form, so they passed locally and came back as a 400.
    out = validate_workspace_spec(make_spec(cluster_id=form))
    assert out["cluster_id"] == "11111111-1111-4111-8111-111111111111"


def test_canonical_cluster_id_is_kept_verbatim() -> None:
    upper = "11111111-1111-4111-8111-111111111111".upper()
    assert validate_workspace_spec(make_spec(cluster_id=upper))["cluster_id"] == upper


@pytest.mark.parametrize(
    ("dotted", "extra"),
    [("", {1: "x", "zz": "y"}), ("resources", {2: 1, "zz": 1}), ("template", {3: 1, "zz": 1})],
)
def test_non_string_keys_are_a_validation_error(dotted: str, extra: dict[Any, Any]) -> None:
    # Regression: sorting unknown keys of mixed types raised TypeError, not ValidationError.
    spec = make_spec()
    (spec[dotted] if dotted else spec).update(extra)
    with pytest.raises(ValidationError, match="unknown field"):
        validate_workspace_spec(spec)


def test_non_string_variable_name_is_named_as_such() -> None:
    spec = _with(make_spec(), "template.variables", {1: "x"})
    with pytest.raises(ValidationError, match=r"template\.variables names must be strings, got 1"):
        validate_workspace_spec(spec)


# -- the one create-body builder (the magic's create and the panel's form) ---------------------

CLUSTER = "11111111-1111-4111-8111-111111111111"


def test_build_workspace_spec_drops_none_and_validates() -> None:
    from exalsius_jupyter.model.spec import build_workspace_spec

    out = build_workspace_spec(name="ws", cluster_id=CLUSTER, template="jupyter-notebook",
                               variables=["a=1", "b= two "], gpu_count=2, gpu_type="A100",
                               cpu_cores=None, description="d")
    assert out == {"name": "ws", "cluster_id": CLUSTER,
                   "template": {"name": "jupyter-notebook", "variables": {"a": "1", "b": " two "}},
                   "resources": {"gpu_count": 2, "gpu_type": "A100"}, "description": "d"}


def test_build_workspace_spec_names_the_field_with_where() -> None:
    from exalsius_jupyter.model.spec import build_workspace_spec

    with pytest.raises(ValidationError, match=r"^workspace 'ws': cluster_id must be a UUID"):
        build_workspace_spec(name="ws", cluster_id="nope", template="t", where="workspace 'ws'")
    with pytest.raises(ValidationError, match=r"resources\.gpu_count must be between"):
        build_workspace_spec(name="ws", cluster_id=CLUSTER, template="t", gpu_count=-1)


@pytest.mark.parametrize("items", [["a=1", "a=2"], "a=1\n# c\n\na=2\n", [("a", "1"), ("a", "2")]])
def test_parse_variables_refuses_a_repeated_key(items: Any) -> None:
    from exalsius_jupyter.model.spec import parse_variables

    with pytest.raises(ValidationError, match=r"'a' is given twice \('1' and '2'\)"):
        parse_variables(items)


def test_parse_variables_keeps_the_value_whitespace_from_items_and_lines() -> None:
    from exalsius_jupyter.model.spec import parse_variables

    assert parse_variables([" k = v ", "e="]) == {"k": " v ", "e": ""}
    assert parse_variables("k= v \n  # comment\n\nx=a=b") == {"k": " v ", "x": "a=b"}
    assert parse_variables({"k": " v "}.items()) == {"k": " v "}


@pytest.mark.parametrize("bad", ["novalue", "=v", " =v"])
def test_parse_variables_refuses_an_item_without_a_key(bad: str) -> None:
    from exalsius_jupyter.model.spec import parse_variables

    with pytest.raises(ValidationError, match="expected KEY=VALUE"):
        parse_variables([bad])
    with pytest.raises(ValidationError, match=r"^variables, line 2: expected KEY=VALUE"):
        parse_variables(f"a=1\n{bad}", source="variables")


def test_variables_take_any_json_value_as_the_live_templates_hold() -> None:
    variables = {"global": {"deploymentName": "nb", "deploymentNamespace": "default"},
                 "deploymentNumReplicas": 1, "ratio": 0.5, "on": True, "tags": ["a", "b"],
                 "nothing": None, "notebookPassword": "pw"}
    spec = validate_workspace_spec(make_spec(template={"name": "jupyter-notebook-template",
                                                       "variables": variables}))
    assert spec["template"]["variables"] == variables


def test_a_nested_name_that_is_not_text_is_named() -> None:
    spec = make_spec(template={"name": "t", "variables": {"global": {"a": {3: "x"}}}})
    with pytest.raises(ValidationError, match=r"template\.variables\.global\.a names must be "
                                              r"strings, got 3"):
        validate_workspace_spec(spec)
