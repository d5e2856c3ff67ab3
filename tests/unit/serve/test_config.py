"""The server's settings: loopback by default, any other address only with a token, bundle pairs and token files
checked before anything starts; the Accept header read into one of the three encodings."""

from __future__ import annotations

import pytest

from nirdag.serve.config import is_loopback, parse_bundles, read_token, serve_config
from nirdag.serve.errors import ServeError

TOKEN = "0123456789abcdef-lab-token"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_addresses_need_no_token(host, tmp_path):
    assert is_loopback(host)
    assert serve_config(tmp_path, host=host).token is None


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.org", ""])
def test_any_other_address_is_refused_without_a_token(host, tmp_path):
    assert not is_loopback(host)
    with pytest.raises(ServeError, match="--token-file"):
        serve_config(tmp_path, host=host)
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    assert serve_config(tmp_path, host=host, token_file=token).token == TOKEN


@pytest.mark.parametrize("text", ["", "short", "two words of a token here"])
def test_a_weak_or_unreadable_token_is_refused(text, tmp_path):
    path = tmp_path / "token"
    path.write_text(text)
    with pytest.raises(ServeError, match="at least 16"):
        read_token(path)
    with pytest.raises(ServeError, match="cannot read"):
        read_token(tmp_path / "missing")


def test_bundle_pairs_are_checked(tmp_path):
    model = tmp_path / "m.nirdag"
    model.write_bytes(b"x")
    assert parse_bundles([f"fat={model}", f"fat.v2={model}"]) == {"fat": str(model), "fat.v2": str(model)}
    for bad, reason in ((str(model), "NAME=PATH"), (f"a b={model}", "NAME=PATH"), ("x=", "NAME=PATH"),
                        (f"{'n' * 65}={model}", "NAME=PATH"), ("x=/no/such/file", "no such file")):
        with pytest.raises(ServeError, match=reason):
            parse_bundles([bad])
    with pytest.raises(ServeError, match="twice"):
        parse_bundles([f"a={model}", f"a={model}"])


def test_the_accept_header_picks_an_encoding():
    pytest.importorskip("starlette")
    from nirdag.serve.encode import negotiate
    from nirdag.serve.errors import NotAcceptable

    assert negotiate(None) == negotiate("*/*") == negotiate("application/json") == "json"
    assert negotiate("text/csv") == negotiate("text/csv;q=0.9, application/json") == "csv"
    assert negotiate("application/vnd.apache.arrow.stream") == "arrow"
    with pytest.raises(NotAcceptable):
        negotiate("image/png")
