"""Who is calling: member and staff JWTs (HS256 and RS256 from a JWKS), partner API keys,
and the `omnigate token` / `omnigate apikey` commands."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway import cli
from tests.conftest import JWT_SECRET, Api, make_settings, serving

ME = "{ me { id email firstName } }"


def hs256(claims: dict, secret: str = JWT_SECRET) -> str:
    return jwt.encode({"exp": int(time.time()) + 600, **claims}, secret, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body["errors"]]


async def test_a_member_jwt_signs_the_member_in(api: Api):
    body = await api.data(ME, **bearer(hs256({"sub": "m1"})))
    assert body["me"]["email"] == "ana@example.com"
    assert (await api.data(ME))["me"] is None  # anonymous: nobody


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(hs256({"sub": "m1", "exp": int(time.time()) - 3600}), id="expired"),
        pytest.param(hs256({"sub": "m1"}, secret="another-secret-of-32-bytes-or-more!!"), id="bad-signature"),
        pytest.param(jwt.encode({"sub": "m1"}, JWT_SECRET, algorithm="HS256"), id="no-expiry"),
        pytest.param(hs256({"sub": "m1", "role": "admin"}), id="unknown-role"),
        pytest.param(hs256({"sub": "s", "role": "staff"}), id="staff-without-locations"),
        pytest.param("not.a.jwt", id="garbage"),
    ],
)
async def test_a_bad_token_is_unauthenticated(api: Api, token: str):
    response = await api.post(ME, **bearer(token))
    assert response.status_code == 401
    assert codes(response.json()) == ["UNAUTHENTICATED"]
    assert "data" not in response.json()


async def test_a_staff_jwt_carries_its_locations(api: Api):
    from tests.commerce import FULFILLMENT_UPDATE, gid

    staff = bearer(hs256({"sub": "ana", "role": "staff", "locations": [1, 2]}))
    variables = {"id": gid("OrderFulfillment", 999999), "status": "SHIPPED"}
    body = await api.gql(FULFILLMENT_UPDATE, variables, **staff)
    # Staff get to the resolver (no such fulfillment), a member does not.
    assert body["data"]["fulfillmentUpdateStatus"]["userErrors"][0]["code"] == "FULFILLMENT_NOT_FOUND"
    member = await api.gql(FULFILLMENT_UPDATE, variables, **bearer(hs256({"sub": "m1"})))
    assert codes(member) == ["FORBIDDEN"]


def _jwks(path: Path) -> tuple[rsa.RSAPrivateKey, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    path.write_text(json.dumps({"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}))
    return key, path


async def test_rs256_tokens_from_an_identity_provider_check_issuer_and_audience(
    database_url: str, tmp_path: Path
):
    key, path = _jwks(tmp_path / "jwks.json")
    settings = make_settings(
        database_url, jwt_secret=None, jwt_jwks=str(path), jwt_issuer="https://idp.test/",
        jwt_audience="omnigate",
    )  # fmt: skip

    def rs256(**claims: object) -> str:
        body = {"sub": "m2", "iss": "https://idp.test/", "aud": "omnigate", "exp": int(time.time()) + 60}
        return jwt.encode({**body, **claims}, key, algorithm="RS256", headers={"kid": "k1"})

    async with serving(settings) as api:
        assert (await api.data(ME, **bearer(rs256())))["me"]["email"] == "ben@example.com"
        for bad in (rs256(iss="https://evil.test/"), rs256(aud="someone-else"), hs256({"sub": "m2"})):
            response = await api.post(ME, **bearer(bad))
            assert response.status_code == 401, bad
            assert codes(response.json()) == ["UNAUTHENTICATED"]
        other, _ = _jwks(tmp_path / "someone-elses-jwks.json")  # same kid, another key
        forged = jwt.encode(
            {"sub": "m2", "iss": "https://idp.test/", "aud": "omnigate", "exp": int(time.time()) + 60},
            other, algorithm="RS256", headers={"kid": "k1"},
        )  # fmt: skip
        assert (await api.post(ME, **bearer(forged))).status_code == 401


async def test_partner_api_keys_by_header_with_their_scopes(database_url: str, capsys):
    cli.main(["apikey", "create", "--name", "acme", "--scopes", "inventory:write"])
    printed = capsys.readouterr().out
    key = printed.split("X-API-Key): ")[1].split()[0]
    settings_line = printed.split("GATEWAY_PARTNER_KEYS=")[1].strip().strip("'")
    partners = json.loads(settings_line)
    assert partners["acme"]["sha256"] == hashlib.sha256(key.encode()).hexdigest()
    assert key not in settings_line
    async with serving(make_settings(database_url, partner_keys=partners)) as api:
        from tests.commerce import ADJUST, location_id, variant_id

        change = {"variantId": variant_id(1), "locationId": location_id(1), "onHand": 4}
        variables = {"input": {"reason": "CYCLE_COUNT", "changes": [change]}}
        body = await api.data(ADJUST, variables, **{"X-API-Key": key})
        assert body["inventoryAdjust"]["userErrors"] == []
        wrong = await api.post(ADJUST, variables, **{"X-API-Key": "og_wrong"})
        assert wrong.status_code == 401


def test_the_token_command_signs_staff_tokens():
    args = cli.argparse.Namespace(locations="1,2", name="ana")
    token = cli._staff_token(make_settings("sqlite://", jwt_secret=JWT_SECRET), args)
    claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"])
    assert (claims["sub"], claims["role"], claims["locations"]) == ("ana", "staff", [1, 2])
    with pytest.raises(SystemExit):
        cli._staff_token(make_settings("sqlite://", jwt_secret=None), args)


async def test_the_token_command_signs_member_tokens_by_email(database_url: str):
    token = await cli._member_token(make_settings(database_url), "chloe@example.com")
    assert jwt.decode(token, JWT_SECRET, algorithms=["HS256"])["sub"] == "m3"
    with pytest.raises(SystemExit):
        await cli._member_token(make_settings(database_url), "nobody@example.com")
