"""The swappable decisions of the members issue, without a database: cart merge, loyalty
program, recommendation ranking."""

from __future__ import annotations

from decimal import Decimal

from adapters.commerce import FulfillmentMode
from adapters.ports.carts import CartLineOp
from resolvers.cart_merge import AddQuantities, KeepCurrentCart
from resolvers.loyalty_program import LoyaltyProgram
from resolvers.recommendation_strategy import BoughtTogetherThenAffinity, Signals

SHIP, PICKUP = FulfillmentMode.SHIP, FulfillmentMode.PICKUP


def test_merging_adds_the_earlier_carts_lines_and_keeping_drops_them():
    current = [CartLineOp(7, 1, 1, PICKUP, 1)]
    earlier = [CartLineOp(None, 1, 2, PICKUP, 1), CartLineOp(None, 3, 1, SHIP, None)]
    assert AddQuantities().merge(current, earlier) == earlier  # the store folds twins together
    assert KeepCurrentCart().merge(current, earlier) == []


def test_points_follow_the_currency_and_tiers_the_spend():
    program = LoyaltyProgram(points_per_unit=2, tiers=(("GOLD", 2000), ("SILVER", 500)))
    assert program.points_for(12_99, "USD") == 25  # 25.98, rounded down
    yen_shop = LoyaltyProgram(points_per_unit=2, currency="JPY")
    assert yen_shop.points_for(1299, "JPY") == 2598  # no minor units
    assert program.points_for(-500, "USD") == 0


def test_another_currency_counts_only_at_the_retailers_rate():
    program = LoyaltyProgram(points_per_unit=1, currency="USD", rates=(("CAD", Decimal("0.73")),))
    assert program.shop_minor(100_00, "CAD") == 73_00  # CA$100 counts as US$73
    assert program.points_for(100_00, "CAD") == 73
    assert program.shop_minor(-100_00, "CAD") == -73_00  # a refund takes back as much
    assert program.shop_minor(1_99, "CAD") == 1_45  # 145.27 cents, rounded down
    assert program.shop_minor(1000, "JPY") == 0  # no rate: nothing is guessed
    assert program.points_for(1000, "JPY") == 0
    assert LoyaltyProgram(currency="USD", rates=(("JPY", Decimal("0.0066")),)).shop_minor(1000, "JPY") == 6_60
    assert [program.tier_for(m, "USD") for m in (0, 500_00, 1999_99, 2000_00)] == [
        "MEMBER", "SILVER", "SILVER", "GOLD",
    ]  # fmt: skip


def test_ranking_is_deterministic_and_excludes_what_was_bought():
    signals = Signals(
        bought_together=[(1, 5, 2), (1, 4, 2), (2, 6, 1)],
        affinity={"shoes": 2},
        popular=[(9, "shoes", 3), (8, "hats", 10), (1, "shoes", 4)],
    )
    ranked = BoughtTogetherThenAffinity().rank(signals, exclude={1})
    # 9: 2 units of shoes x 3 orders = 6; 4 and 5: 3 x 2 orders = 6 (ties by id); 6: 3; 8: 0.
    assert ranked == [4, 5, 9, 6, 8]
    assert ranked == BoughtTogetherThenAffinity().rank(signals, exclude={1})


async def test_a_read_only_member_directory_refuses_profile_edits_as_a_user_error():
    from types import SimpleNamespace

    from adapters.records import MemberChanges
    from resolvers import members
    from resolvers.principal import Principal, PrincipalKind

    class ReadOnlyCrm:
        async def members_by_keys(self, keys):  # pragma: no cover - not reached
            return []

    ctx = SimpleNamespace(
        upstreams=SimpleNamespace(members=ReadOnlyCrm()),
        principal=Principal(PrincipalKind.MEMBER, subject="member:m1", member_id="m1"),
    )
    result = await members.update_profile(ctx, MemberChanges(first_name="Anna"))  # type: ignore[arg-type]
    assert [e.code for e in result.user_errors] == ["PROFILE_READ_ONLY"]


def test_a_refund_goes_back_card_first_then_gift_card_then_points():
    import dataclasses
    from datetime import UTC, datetime

    from adapters.commerce import PaymentMethod, PaymentRecord, PaymentStatus
    from resolvers.refunds import split_refund

    def paid(id: int, method: PaymentMethod, amount: int, refunded: int = 0) -> PaymentRecord:
        now = datetime(2026, 1, 1, tzinfo=UTC)
        return PaymentRecord(id, 1, method, "p", "r", amount, refunded, "USD", PaymentStatus.CAPTURED, now)

    points = paid(1, PaymentMethod.LOYALTY_POINTS, 300)
    gift = paid(2, PaymentMethod.GIFT_CARD, 200)
    card = paid(3, PaymentMethod.CARD, 500, refunded=100)
    taken = [points, gift, card]

    def split(amount: int | None) -> list[tuple[int, int]]:
        return [(p.id, a) for p, a in split_refund(taken, amount)]

    assert split(300) == [(3, 300)]
    assert split(450) == [(3, 400), (2, 50)]
    assert split(10_000) == [(3, 400), (2, 200), (1, 300)]
    assert split(None) == split(10_000)
    voided = dataclasses.replace(paid(4, PaymentMethod.CARD, 50), status=PaymentStatus.VOIDED)
    assert [(p.id, a) for p, a in split_refund([voided, points], 100)] == [(1, 100)]
