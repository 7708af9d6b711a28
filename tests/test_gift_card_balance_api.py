"""giftCardBalance(code): anyone holding a code reads its balance; unknown codes answer in the
same shape; lookups are limited per caller."""

from tests.commerce import GIFT_CARD_ISSUE, SEATTLE
from tests.conftest import Api
from tests.helpers import gateway

BALANCE = "query ($code: String!) { giftCardBalance(code: $code) { balance { amount currencyCode } } }"


async def issue(api: Api, amount: str) -> str:
    body = await api.data(GIFT_CARD_ISSUE, {"amount": amount}, **api.as_staff(SEATTLE))
    return body["giftCardIssue"]["giftCard"]["code"]


async def test_a_code_reads_its_balance_and_an_unknown_one_reads_null(api: Api):
    code = await issue(api, "25.00")
    found = await api.data(BALANCE, {"code": code})
    assert found == {"giftCardBalance": {"balance": {"amount": "25.00", "currencyCode": "USD"}}}
    for unknown in ("GC-NOT-A-CARD", "", "x" * 500, code[:-1]):
        body = await api.gql(BALANCE, {"code": unknown})
        assert (body["data"], body.get("errors")) == ({"giftCardBalance": {"balance": None}}, None)
    member = await api.data(BALANCE, {"code": code}, **api.as_member("m1"))
    assert member["giftCardBalance"]["balance"]["amount"] == "25.00"


async def test_lookups_are_limited_per_caller(database_url: str):
    async with gateway(database_url, gift_card_lookups_per_caller=3) as api:
        codes = []
        for attempt in range(8):
            body = await api.gql(BALANCE, {"code": f"GUESS-{attempt}"})
            codes += [e["extensions"]["code"] for e in body.get("errors") or []]
            if codes:
                assert body["data"] is None or body["data"].get("giftCardBalance") is None
                break
        assert codes == ["RATE_LIMITED"]
        # Another caller has a bucket of its own.
        other = await api.gql(BALANCE, {"code": "GUESS-x"}, **api.as_member("m2"))
        assert (other["data"], other.get("errors")) == ({"giftCardBalance": {"balance": None}}, None)
