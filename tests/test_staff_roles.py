"""Staff roles: the scopes a staff token may carry (analytics, support, audit), how they are
minted by `omnigate token staff --scopes`, and that no staff token gains a system's power."""

from __future__ import annotations

import jwt
import pytest
from pydantic import ValidationError

from gateway import cli
from gateway.identity.tokens import principal_of
from resolvers.principal import Principal, PrincipalKind, Scope
from tests.conftest import JWT_SECRET, make_settings


def test_the_token_command_grants_staff_roles():
    args = cli.argparse.Namespace(locations="1", name="mia", scopes="analytics:read,support:write")
    token = cli._staff_token(make_settings("sqlite://", jwt_secret=JWT_SECRET), args)
    claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"])
    assert claims["scopes"] == ["analytics:read", "support:write"]
    principal = principal_of(claims)
    assert principal.has_scope(Scope.ANALYTICS_READ) and principal.has_scope(Scope.SUPPORT_READ)
    assert not principal.has_scope(Scope.ANALYTICS_ALL) and not principal.has_scope(Scope.AUDIT_READ)
    assert principal.analytics_locations() == frozenset({1})


def test_the_token_command_refuses_powers_that_are_not_staff_roles():
    args = cli.argparse.Namespace(locations="1", name="mia", scopes="orders:write")
    with pytest.raises(SystemExit):
        cli._staff_token(make_settings("sqlite://", jwt_secret=JWT_SECRET), args)


def test_a_staff_token_that_claims_a_systems_power_gains_nothing():
    principal = principal_of(
        {"sub": "eve", "role": "staff", "locations": [1], "scopes": ["orders:write", "members:read"]}
    )
    assert principal.scopes == frozenset()
    assert not principal.has_scope(Scope.ORDERS_READ) and not principal.may_read_member("m1")
    forged = Principal(PrincipalKind.STAFF, location_ids=frozenset({1}), scopes=frozenset({"orders:write"}))
    assert not forged.has_scope(Scope.ORDERS_WRITE)


def test_static_staff_tokens_take_staff_roles_only():
    good = [{"token": "t", "subject": "staff:x", "location_ids": [1], "scopes": ["audit:read"]}]
    assert make_settings("sqlite://", staff_tokens=good).staff_tokens[0].scopes == [Scope.AUDIT_READ]
    bad = [{"token": "t", "subject": "staff:x", "location_ids": [1], "scopes": ["inventory:write"]}]
    with pytest.raises(ValidationError):
        make_settings("sqlite://", staff_tokens=bad)


def test_head_office_analysts_read_every_location_and_store_managers_their_own():
    hq = Principal(PrincipalKind.STAFF, scopes=frozenset({"analytics:all"}))
    assert hq.has_scope(Scope.ANALYTICS_READ) and hq.analytics_locations() is None
    manager = Principal(
        PrincipalKind.STAFF, location_ids=frozenset({2}), scopes=frozenset({"analytics:read"})
    )
    assert manager.analytics_locations() == frozenset({2})
    member = Principal(PrincipalKind.MEMBER, member_id="m1", scopes=frozenset({"analytics:all"}))
    assert not member.has_scope(Scope.ANALYTICS_READ)
