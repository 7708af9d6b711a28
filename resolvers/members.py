"""Members: who is signed in, their profile (through the member-directory port, so a CRM can
hold it), and signing in with a password kept at the gateway."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import astuple, dataclass
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from adapters.records import MemberChanges, MemberRecord
from resolvers.errors import RateLimited, UpstreamUnavailable
from resolvers.principal import PrincipalKind
from resolvers.user_errors import UserError

if TYPE_CHECKING:
    from resolvers.context import ResolverContext

# `MemberChanges` fields by their names in `MemberUpdateInput`.
_INPUT_NAMES = {
    "first_name": "firstName",
    "last_name": "lastName",
    "phone": "phone",
    "addresses": "addresses",
    "preferred_location_id": "preferredStoreId",
    "marketing_consent": "marketingConsent",
}

_HASHER = PasswordHasher()
# Verified against when the email is unknown, so an answer takes as long either way.
_DUMMY_HASH = _HASHER.hash("not a password anyone has")


# The longest text each profile field takes: what the gateway's members table keeps (a CRM's
# fields are rarely longer); an address is kept whole, its fields as long as a location's.
PROFILE_LENGTHS = {"firstName": 120, "lastName": 120, "phone": 40}
ADDRESS_LENGTHS = {"address1": 255, "address2": 255, "city": 120, "province": 120, "provinceCode": 8,
                   "zip": 20, "country": 120, "countryCode": 2, "phone": 40}  # fmt: skip
MAX_ADDRESSES = 20


@dataclass(frozen=True, slots=True)
class MemberResult:
    member: MemberRecord | None
    user_errors: list[UserError]


def _directory(ctx: ResolverContext):  # type: ignore[no-untyped-def]
    if ctx.upstreams.members is None:
        raise UpstreamUnavailable("no member directory is configured")
    return ctx.upstreams.members


async def member(ctx: ResolverContext, key: str) -> MemberRecord | None:
    return await ctx.loaders.member_by_key.load(key)


async def me(ctx: ResolverContext) -> MemberRecord | None:
    """The signed-in member's profile; None for anyone else (or a member the directory lacks)."""
    if ctx.principal.kind is not PrincipalKind.MEMBER or ctx.principal.member_id is None:
        return None
    return await member(ctx, ctx.principal.member_id)


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


async def sign_in(ctx: ResolverContext, email: str, password: str, channel: str = "WEB") -> MemberResult:
    """The member with this email and password, or one userError that does not say which was
    wrong (SIGN_IN_UNAVAILABLE when the members are a CRM's: its passwords are not here, and the
    gateway's own would name members the CRM does not know). Failed attempts are throttled per
    account and per client address (RateLimited before any password is checked); an unknown
    email is checked against a dummy hash, so the answer takes as long either way."""
    credentials = ctx.upstreams.member_credentials
    if credentials is None:  # the members are a CRM's (GATEWAY_CUSTOMERS): it keeps the passwords
        refusal = UserError(
            None,
            "members sign in with the customer system's own sign-in; this gateway keeps no passwords",
            "SIGN_IN_UNAVAILABLE",
        )
        return MemberResult(None, [refusal])
    throttle = ctx.sign_in_throttle
    if throttle is not None:
        wait = await throttle.admit(email, ctx.client_address)
        if wait is not None:
            raise RateLimited(f"Too many failed sign-ins; retry in {wait} s.", retry_after=wait)
    found = await credentials.password_hash_of(email)
    stored = found[1] if found else _DUMMY_HASH
    # argon2 is deliberately slow: off the event loop.
    valid = await asyncio.to_thread(_verify, stored, password)
    if found is None or not valid:
        wrong = UserError(None, "the email or password is not right", "INVALID_CREDENTIALS")
        return MemberResult(None, [wrong])
    if throttle is not None:
        await throttle.succeeded(email, ctx.client_address)
    if ctx.upstreams.sign_ins is not None:  # the support timeline shows where members sign in
        await ctx.upstreams.sign_ins.record(found[0], channel, ctx.now())
    return MemberResult(await member(ctx, found[0]), [])


def _too_long(path: list[str], value: str | None, limit: int) -> list[UserError]:
    if value is None or len(value) <= limit:
        return []
    return [UserError(path, f"at most {limit} characters", "INVALID")]


def _profile_errors(changes: MemberChanges) -> list[UserError]:
    given = {"firstName": changes.first_name, "lastName": changes.last_name, "phone": changes.phone}
    errors = [e for name, v in given.items() for e in _too_long(["input", name], v, PROFILE_LENGTHS[name])]
    addresses = changes.addresses or ()
    if len(addresses) > MAX_ADDRESSES:
        errors.append(UserError(["input", "addresses"], f"at most {MAX_ADDRESSES} addresses", "INVALID"))
    for index, address in enumerate(addresses):
        # astuple gives the record's fields in the order ADDRESS_LENGTHS names them
        for (name, limit), value in zip(ADDRESS_LENGTHS.items(), astuple(address), strict=True):
            errors += _too_long(["input", "addresses", str(index), name], value, limit)
    return errors


async def update_profile(ctx: ResolverContext, changes: MemberChanges) -> MemberResult:
    member_id = ctx.principal.member_id
    assert member_id is not None, "a member principal (schema/permissions.py)"
    errors = _profile_errors(changes)
    if errors:
        return MemberResult(None, errors)
    if changes.preferred_location_id is not None:
        location = await ctx.loaders.location_by_id.load(changes.preferred_location_id)
        if location is None:
            return MemberResult(
                None, [UserError(["input", "preferredStoreId"], "no such store", "LOCATION_NOT_FOUND")]
            )
    directory = _directory(ctx)
    if not hasattr(directory, "update_member"):
        # A CRM adapter that only reads and upserts by email (the adapters issue's ports).
        message = "the member directory does not take profile edits"
        return MemberResult(None, [UserError(None, message, "PROFILE_READ_ONLY")])
    writable = getattr(directory, "writable_fields", None)  # None: the directory keeps them all
    if writable is not None:
        fixed = [f.name for f in dataclasses.fields(changes) if getattr(changes, f.name) is not None]
        fixed = [name for name in fixed if name not in writable]
        if fixed:
            message = "the member directory has no place for this field"
            return MemberResult(
                None,
                [UserError(["input", _INPUT_NAMES[n]], message, "PROFILE_READ_ONLY") for n in fixed],
            )
    updated = await directory.update_member(member_id, changes, ctx.now())
    if updated is None:
        return MemberResult(None, [UserError(None, "no member profile to update", "MEMBER_NOT_FOUND")])
    ctx.loaders.member_by_key.clear(member_id).prime(member_id, updated)
    return MemberResult(updated, [])
