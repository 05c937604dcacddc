"""errors.py: problem+json (wrapped and flat RFC 7807), HTML pages and junk become typed errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support import load_spec

from exalsius_jupyter import errors
from exalsius_jupyter.api import error_bodies
from exalsius_jupyter.api.error_bodies import error_from_response
from exalsius_jupyter.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ExalsiusError,
    NotFoundError,
    ServerError,
)

EXPECTED_CLASS = {400: BadRequestError, 404: NotFoundError, 409: ConflictError, 500: ServerError}


def _spec_error_examples() -> dict[str, dict[str, Any]]:
    spec = load_spec("1.5.1")
    content = spec["components"]["responses"]["ErrorResponse"]["content"]
    examples = content["application/problem+json"]["examples"]
    return {name: ex["value"] for name, ex in examples.items()}


def test_spec_error_examples_wrapped_shape() -> None:
    examples = _spec_error_examples()
    assert set(examples) >= {"bad-request", "workspace-not-found", "workspace-already-exists",
                             "server-error"}
    for name, body in examples.items():
        problem = body["detail"]
        err = error_from_response(problem["status"], json.dumps(body).encode(), "Whatever")
        assert type(err) is EXPECTED_CLASS[problem["status"]], name
        assert (err.status, err.title, err.detail, err.instance, err.type) == (
            problem["status"], problem["title"], problem["detail"], problem["instance"],
            problem["type"]), name
        assert problem["detail"] in str(err)
        assert "\n" not in str(err)


def test_spec_error_examples_flat_rfc7807() -> None:
    for name, body in _spec_error_examples().items():
        flat = body["detail"]
        err = error_from_response(flat["status"], json.dumps(flat).encode(), "")
        assert type(err) is EXPECTED_CLASS[flat["status"]], name
        assert (err.status, err.title, err.detail, err.instance) == (
            flat["status"], flat["title"], flat["detail"], flat["instance"]), name
        assert flat["title"] in str(err) and flat["detail"] in str(err)


def test_spec_1_46_error_examples_parse_too() -> None:
    spec = load_spec("1.46.0")
    op = spec["paths"]["/workspace/{workspace_id}"]["get"]["responses"]["404"]
    examples = op["content"]["application/problem+json"]["examples"]
    assert examples
    for name, ex in examples.items():
        problem = ex["value"]["detail"]
        err = error_from_response(404, json.dumps(ex["value"]).encode(), "Not Found")
        assert isinstance(err, NotFoundError), name
        assert err.detail == problem["detail"] and err.title == problem["title"], name


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, BadRequestError), (401, AuthenticationError), (403, AuthenticationError),
     (404, NotFoundError), (409, ConflictError), (500, ServerError), (502, ServerError),
     (503, ServerError), (418, ApiError), (422, ApiError)],
)
def test_class_by_status(status: int, cls: type[ApiError]) -> None:
    err = error_from_response(status, b"", "Reason")
    assert type(err) is cls
    assert err.status == status
    assert str(err) == f"HTTP {status} Reason"


def test_string_detail_like_a_framework_404() -> None:
    err = error_from_response(404, b'{"detail": "Not Found"}', "Not Found")
    assert isinstance(err, NotFoundError)
    assert err.detail == "Not Found"
    assert str(err) == "HTTP 404 Not Found: Not Found"


def test_html_502_page_becomes_short_server_error() -> None:
    page = ("<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>\n<body>\n"
            "<center><h1>502 Bad Gateway</h1></center>\n" + "<p>" + "x" * 5000 + "</p>"
            "<hr><center>nginx/1.25.3</center>\n</body></html>\n").encode()
    err = error_from_response(502, page, "Bad Gateway")
    assert isinstance(err, ServerError)
    assert err.status == 502
    text = str(err)
    assert text.startswith("HTTP 502 Bad Gateway: 502 Bad Gateway")
    assert "<" not in text and "\n" not in text
    assert len(text) < 200
    assert err.detail is not None and len(err.detail) <= error_bodies._EXCERPT


def test_multiline_detail_is_one_line() -> None:
    body = {"detail": {"type": "about:blank", "title": "Bad\nRequest", "status": 400,
                       "detail": "line one\n\tline two\r\nline three", "instance": "/x"}}
    err = error_from_response(400, json.dumps(body).encode(), "")
    assert str(err) == "HTTP 400 Bad Request: line one line two line three"


def test_bogus_status_member_falls_back_to_http_status() -> None:
    body = {"title": "Oops", "status": "five hundred", "detail": "d"}
    err = error_from_response(500, json.dumps(body).encode(), "")
    assert isinstance(err, ServerError) and err.status == 500


def test_json_without_problem_members_is_excerpted() -> None:
    err = error_from_response(500, b'{"message": "boom"}', "Internal Server Error")
    assert isinstance(err, ServerError)
    assert "boom" in str(err)


def test_non_utf8_body_does_not_crash() -> None:
    err = error_from_response(500, b"\xff\xfe\x00garbage", "")
    assert isinstance(err, ServerError) and "\n" not in str(err)


def test_hierarchy() -> None:
    for name in ("ApiError", "NotSupportedError", "TransportError", "InvalidResponseError",
                 "ValidationError", "InsecureTransportError", "WorkspaceFailedError",
                 "WaitTimeoutError"):
        assert issubclass(getattr(errors, name), ExalsiusError), name
    assert issubclass(errors.ConnectionFailedError, errors.TransportError)
    assert issubclass(errors.RequestTimeoutError, errors.TransportError)
    assert issubclass(errors.RequestTimeoutError, TimeoutError)
    assert issubclass(errors.WaitTimeoutError, TimeoutError)
    assert issubclass(errors.ValidationError, ValueError)
    for cls in (BadRequestError, AuthenticationError, NotFoundError, ConflictError, ServerError):
        assert issubclass(cls, ApiError)


def test_base_error_collapses_whitespace_and_keeps_fields() -> None:
    err = ExalsiusError("a\nb   c", status=1, title="t", detail="d", instance="/i", type="u")
    assert str(err) == "a b c"
    assert (err.status, err.title, err.detail, err.instance, err.type) == (1, "t", "d", "/i", "u")


def test_public_names_exported_from_package() -> None:
    import exalsius_jupyter

    for name in ("ExalsiusError", "BadRequestError", "NotFoundError", "ConflictError",
                 "ServerError"):
        assert getattr(exalsius_jupyter, name) is getattr(errors, name)


def test_status_follows_the_http_status_when_the_body_disagrees() -> None:
    """The class and ``.status`` agree: both follow the HTTP status line, not the body."""
    body = json.dumps({"detail": {"type": "t", "title": "Cluster Node Not Found", "status": 409,
                                  "detail": "gone", "instance": "/x"}}).encode()
    err = error_from_response(404, body, "Not Found")
    assert isinstance(err, NotFoundError)
    assert err.status == 404
    assert str(err).startswith("HTTP 404 ")
