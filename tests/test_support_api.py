"""Support: a member's timeline across channels for support staff, support conversations that move
from chat to the store, the audit log of every staff read of a member's personal data, and who
may do each."""

from __future__ import annotations

import base64
from datetime import datetime

import pytest

from tests.commerce import (
    BELLEVUE,
    FULFILLMENT_UPDATE,
    SEATTLE,
    STORE_SALE,
    checkout,
    create_cart,
    gid,
    line,
    location_id,
    set_stock,
    variant_id,
)
from tests.conftest import Api
from tests.helpers import PARTNER_KEY, PARTNERS, gateway

M1 = gid("Member", "m1")
ERRORS = "userErrors { field message code }"
OPEN = f"""
mutation ($input: SupportTicketOpenInput!) {{
  supportTicketOpen(input: $input) {{
    ticket {{ id memberId subject channel status messages {{ channel author body }} }} {ERRORS}
  }}
}}"""
REPLY = f"""
mutation ($id: ID!, $channel: TicketChannel!, $body: String!) {{
  supportTicketReply(ticketId: $id, channel: $channel, body: $body) {{
    ticket {{ id status messages {{ channel author body }} }} {ERRORS}
  }}
}}"""
SET_STATUS = f"""
mutation ($id: ID!, $status: TicketStatus!) {{
  supportTicketSetStatus(ticketId: $id, status: $status) {{ ticket {{ id status }} {ERRORS} }}
}}"""
TIMELINE = """
query ($id: ID!, $first: Int, $after: String, $kinds: [TimelineKind!], $channels: [TimelineChannel!]) {
  supportMember(id: $id) {
    id email firstName lastName phone
    timeline(first: $first, after: $after, kinds: $kinds, channels: $channels) {
      edges { cursor node { kind occurredAt channel location { id } detail points referenceId } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""
CONTACT = "query ($id: ID!) { supportMember(id: $id) { email phone ... on SupportMember { firstName } } }"
TICKET = "query ($id: ID!) { supportTicket(id: $id) { subject status messages { channel body } } }"
AUDIT = """
query ($memberId: ID, $first: Int) {
  auditLog(memberId: $memberId, first: $first) {
    nodes { actor memberId action fields at }
    pageInfo { hasNextPage }
  }
}"""


async def _conversation(api: Api) -> str:
    """A chat opened on the web, carried on at the store counter, then resolved."""
    opened = {
        "memberId": M1,
        "subject": "Wrong size",
        "channel": "WEB_CHAT",
        "body": "The shoes are too small.",
    }
    payload = (await api.data(OPEN, {"input": opened}, **api.as_role("support")))["supportTicketOpen"]
    assert payload["userErrors"] == []
    ticket = payload["ticket"]
    assert (ticket["memberId"], ticket["channel"], ticket["status"]) == (M1, "WEB_CHAT", "OPEN")
    assert ticket["messages"] == [
        {"channel": "WEB_CHAT", "author": "staff:support", "body": "The shoes are too small."}
    ]
    api.advance(minutes=30)
    said = {"id": ticket["id"], "channel": "STORE", "body": "Exchanged at Seattle for a larger size."}
    replied = (await api.data(REPLY, said, **api.as_role("support")))["supportTicketReply"]
    assert [m["channel"] for m in replied["ticket"]["messages"]] == ["WEB_CHAT", "STORE"]
    done = await api.data(SET_STATUS, {"id": ticket["id"], "status": "RESOLVED"}, **api.as_role("support"))
    assert done["supportTicketSetStatus"]["ticket"]["status"] == "RESOLVED"
    return ticket["id"]


async def _life_of_m1(api: Api) -> str:
    """m1 orders online and picks up at Seattle, buys at the Bellevue till, leaves a cart in the
    app, and talks to support."""
    api.start_clock_at(datetime.fromisoformat("2031-05-04T09:00:00+00:00"))
    await set_stock(api, 1, SEATTLE, 5)
    await set_stock(api, 1, BELLEVUE, 5)
    cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE), **api.as_member("m1"))
    order = (await checkout(api, cart["id"], key="s-1", **api.as_member("m1")))["order"]
    for status in ("READY_FOR_PICKUP", "PICKED_UP"):
        api.advance(minutes=10)
        await api.data(
            FULFILLMENT_UPDATE,
            {"id": order["fulfillments"][0]["id"], "status": status},
            **api.as_staff(SEATTLE),
        )
    api.advance(minutes=10)
    till = {"locationId": location_id(BELLEVUE), "lines": [{"variantId": variant_id(1), "quantity": 1}],
            "memberId": M1, "idempotencyKey": "till-s-1"}  # fmt: skip
    assert (await api.data(STORE_SALE, {"input": till}, **api.as_staff(BELLEVUE)))["storeSaleRecord"]["order"]
    api.advance(minutes=10)
    await create_cart(api, line(5, 1), channel="MOBILE_APP", **api.as_member("m1"))
    api.advance(hours=5)  # the app cart is left: abandoned
    return await _conversation(api)


async def test_support_sees_a_members_timeline_across_channels_newest_first(api: Api):
    ticket = await _life_of_m1(api)
    support = api.as_role("support")
    member = (await api.data(TIMELINE, {"id": M1, "first": 20}, **support))["supportMember"]
    assert member["id"] == M1 and member["email"]
    entries = [e["node"] for e in member["timeline"]["edges"]]
    times = [e["occurredAt"] for e in entries]
    assert times == sorted(times, reverse=True)
    kinds = [e["kind"] for e in entries]
    assert kinds[:2] == ["TICKET", "TICKET"] and entries[0]["channel"] == "STORE"
    assert entries[0]["referenceId"] == ticket and entries[1]["channel"] == "WEB_CHAT"
    assert {"ABANDONED_CART", "TILL_SALE", "PICKUP", "ORDER"} <= set(kinds)
    abandoned = next(e for e in entries if e["kind"] == "ABANDONED_CART")
    assert abandoned["channel"] == "MOBILE_APP" and abandoned["referenceId"] is None  # never a cart's secret
    sale = next(e for e in entries if e["kind"] == "TILL_SALE")
    assert (sale["channel"], sale["location"]) == ("STORE", {"id": location_id(BELLEVUE)})
    pickup = next(e for e in entries if e["kind"] == "PICKUP")
    assert pickup["location"] == {"id": location_id(SEATTLE)} and pickup["referenceId"].startswith("T3JkZXI")


async def test_the_timeline_pages_without_gaps_and_filters_by_kind_and_channel(api: Api):
    await _life_of_m1(api)
    support = api.as_role("support")
    whole = (await api.data(TIMELINE, {"id": M1, "first": 250}, **support))["supportMember"]["timeline"]
    everything = [e["node"] for e in whole["edges"]]
    paged, after = [], None
    while True:
        page = (await api.data(TIMELINE, {"id": M1, "first": 3, "after": after}, **support))["supportMember"]
        paged += [e["node"] for e in page["timeline"]["edges"]]
        if not page["timeline"]["pageInfo"]["hasNextPage"]:
            break
        after = page["timeline"]["pageInfo"]["endCursor"]
    assert paged == everything
    chats = await api.data(TIMELINE, {"id": M1, "kinds": ["TICKET"]}, **support)
    assert [e["node"]["channel"] for e in chats["supportMember"]["timeline"]["edges"]] == [
        "STORE",
        "WEB_CHAT",
    ]
    in_store = await api.data(TIMELINE, {"id": M1, "channels": ["STORE"]}, **support)
    assert {e["node"]["channel"] for e in in_store["supportMember"]["timeline"]["edges"]} == {"STORE"}
    forged = base64.urlsafe_b64encode(b'["orders",1,1]').decode()
    body = await api.gql(TIMELINE, {"id": M1, "after": forged}, **support)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


LOGIN = """mutation ($email: String!, $password: String!, $channel: Channel!) {
  memberLogin(email: $email, password: $password, channel: $channel) { token userErrors { code } } }"""


async def test_sign_ins_show_in_the_timeline_with_their_channel(api: Api):
    api.start_clock_at(datetime.fromisoformat("2031-05-04T09:00:00+00:00"))
    for channel in ("WEB", "MOBILE_APP"):
        api.advance(minutes=1)
        signed = {"email": "ana@example.com", "password": "omnigate-demo", "channel": channel}
        assert (await api.data(LOGIN, signed))["memberLogin"]["token"]
    wrong = {"email": "ana@example.com", "password": "not-it", "channel": "STORE"}
    assert (await api.data(LOGIN, wrong))["memberLogin"]["token"] is None  # no sign-in to show
    data = await api.data(TIMELINE, {"id": M1, "kinds": ["SIGN_IN"]}, **api.as_role("support"))
    entries = [e["node"] for e in data["supportMember"]["timeline"]["edges"]]
    assert [(e["kind"], e["channel"]) for e in entries] == [("SIGN_IN", "MOBILE_APP"), ("SIGN_IN", "WEB")]


async def test_every_staff_read_of_personal_data_is_audited_for_admins(api: Api):
    ticket = await _life_of_m1(api)
    support = api.as_role("support")
    await api.data(CONTACT, {"id": M1}, **support)
    await api.data(TICKET, {"id": ticket}, **support)
    assert (await api.data(CONTACT, {"id": gid("Member", "nobody")}, **support))["supportMember"] is None
    log = (await api.data(AUDIT, {"memberId": M1}, **api.as_role("admin")))["auditLog"]["nodes"]
    assert [(e["actor"], e["memberId"], e["action"], e["fields"]) for e in log[:2]] == [
        ("staff:support", M1, "READ", ["messages", "status", "subject"]),
        ("staff:support", M1, "READ", ["email", "firstName", "phone"]),
    ]
    assert log[0]["at"].startswith("2031-05-04")
    everyone = (await api.data(AUDIT, {"first": 1}, **api.as_role("admin")))["auditLog"]
    assert everyone["pageInfo"]["hasNextPage"] is True
    denied = await api.gql(CONTACT, {"id": M1}, **api.as_staff(SEATTLE))
    assert [e["extensions"]["code"] for e in denied["errors"]] == ["FORBIDDEN"]
    after = (await api.data(AUDIT, {"memberId": M1}, **api.as_role("admin")))["auditLog"]["nodes"]
    assert len(after) == len(log)  # a refused read reads nothing and writes nothing


async def test_bad_input_is_an_answer_not_a_failure(api: Api):
    support = api.as_role("support")
    blank = {"memberId": M1, "subject": " ", "channel": "EMAIL", "body": "hello"}
    body = await api.gql(OPEN, {"input": blank}, **support)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    nobody = {"memberId": gid("Member", "nobody"), "subject": "Hi", "channel": "EMAIL", "body": "hello"}
    payload = (await api.data(OPEN, {"input": nobody}, **support))["supportTicketOpen"]
    assert (payload["ticket"], [e["code"] for e in payload["userErrors"]]) == (None, ["MEMBER_NOT_FOUND"])
    ghost = {"id": gid("SupportTicket", 999999), "channel": "PHONE", "body": "hello?"}
    payload = (await api.data(REPLY, ghost, **support))["supportTicketReply"]
    assert [e["code"] for e in payload["userErrors"]] == ["TICKET_NOT_FOUND"]
    body = await api.gql(TICKET, {"id": gid("Order", 1)}, **support)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def test_a_member_chats_with_support_about_their_own_conversations_only(api: Api):
    mine = {"memberId": M1, "subject": "Where is my parcel?", "channel": "WEB_CHAT", "body": "Order 12?"}
    payload = (await api.data(OPEN, {"input": mine}, **api.as_member("m1")))["supportTicketOpen"]
    ticket = payload["ticket"]
    assert ticket["messages"] == [{"channel": "WEB_CHAT", "author": "member:m1", "body": "Order 12?"}]
    said = {"id": ticket["id"], "channel": "PHONE", "body": "On its way, it arrives tomorrow."}
    await api.data(REPLY, said, **api.as_role("support"))
    answer = {"id": ticket["id"], "channel": "WEB_CHAT", "body": "Thanks!"}
    replied = (await api.data(REPLY, answer, **api.as_member("m1")))["supportTicketReply"]["ticket"]
    assert [m["channel"] for m in replied["messages"]] == ["WEB_CHAT", "PHONE", "WEB_CHAT"]
    read = await api.data(TICKET, {"id": ticket["id"]}, **api.as_member("m1"))
    assert read["supportTicket"]["subject"] == "Where is my parcel?"
    log = (await api.data(AUDIT, {"memberId": M1}, **api.as_role("admin")))["auditLog"]["nodes"]
    assert log == []  # a member reading their own conversation is no one else's read
    for document, variables in (
        (TICKET, {"id": ticket["id"]}),
        (REPLY, {**answer, "body": "Not mine"}),
        (OPEN, {"input": {**mine, "memberId": gid("Member", "m1")}}),
        (SET_STATUS, {"id": ticket["id"], "status": "CLOSED"}),
    ):
        body = await api.gql(document, variables, **api.as_member("m2"))
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], document
    closed = await api.gql(SET_STATUS, {"id": ticket["id"], "status": "CLOSED"}, **api.as_member("m1"))
    assert [e["extensions"]["code"] for e in closed["errors"]] == ["FORBIDDEN"]  # support closes


CALLERS = ["anonymous", "member", "staff of store 1", "staff of store 2", "analyst", "support", "admin",
           "partner key", "integration", "order sync"]  # fmt: skip
# Who may: support reads members and conversations and answers them; admins read the audit log;
# a member (m1 here) opens and reads their own conversations.
MAY = {"supportMember": {"support"}, "supportTicket": {"support", "member"}, "auditLog": {"admin"},
       "supportTicketOpen": {"support", "member"}, "supportTicketReply": {"support", "member"},
       "supportTicketSetStatus": {"support"}}  # fmt: skip


@pytest.mark.parametrize("caller", CALLERS)
async def test_who_may_read_support_records_and_the_audit_log(database_url: str, caller: str):
    async with gateway(database_url, partner_keys=PARTNERS) as api:
        headers = {
            "anonymous": {},
            "member": api.as_member("m1"),
            "staff of store 1": api.as_staff(SEATTLE),
            "staff of store 2": api.as_staff(BELLEVUE),
            "analyst": api.as_role("analyst-hq"),
            "support": api.as_role("support"),
            "admin": api.as_role("admin"),
            "partner key": {"X-API-Key": PARTNER_KEY},
            "integration": api.as_integration(),
            "order sync": api.as_order_sync(),
        }[caller]
        opened = {"memberId": M1, "subject": "Hi", "channel": "PHONE", "body": "A call."}
        ticket = (await api.data(OPEN, {"input": opened}, **api.as_role("support")))["supportTicketOpen"][
            "ticket"
        ]
        operations = {
            "supportMember": (CONTACT, {"id": M1}),
            "supportTicket": (TICKET, {"id": ticket["id"]}),
            "auditLog": (AUDIT, {"memberId": M1}),
            "supportTicketOpen": (OPEN, {"input": opened}),
            "supportTicketReply": (REPLY, {"id": ticket["id"], "channel": "EMAIL", "body": "More."}),
            "supportTicketSetStatus": (SET_STATUS, {"id": ticket["id"], "status": "PENDING"}),
        }
        for field, (document, variables) in operations.items():
            body = await api.gql(document, variables, **headers)
            if caller in MAY[field]:
                assert "errors" not in body and body["data"][field] is not None, (field, body)
            else:
                expected = "UNAUTHENTICATED" if caller == "anonymous" else "FORBIDDEN"
                assert [e["extensions"]["code"] for e in body["errors"]] == [expected], (field, body)
                assert body["data"] is None or body["data"][field] is None
