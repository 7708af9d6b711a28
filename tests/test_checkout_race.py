"""A stuck checkout has one owner at a time: the sweeper (asking the card provider, voiding,
undoing) or the client's retry of the same key (charging, confirming), never both; a charge
that lands for an order that is gone is voided. Raced in process, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.store.tables import orders
from tests.commerce import CHECKOUT, SEATTLE, VISA, create_cart, line, set_stock
from tests.helpers import gateway


class Provider:
    """The test card provider with a hook run at one moment of one call."""

    def __init__(self, inner):
        self.inner = inner
        self.before_charge = None  # run when a charge arrives, before it is taken
        self.after_lookup = None  # run after `charged` looked, before its answer returns

    async def charge(self, request):
        hook, self.before_charge = self.before_charge, None
        if hook is not None:
            await hook()
        return await self.inner.charge(request)

    async def charged(self, key):
        answer = await self.inner.charged(key)
        hook, self.after_lookup = self.after_lookup, None
        if hook is not None:
            await hook()
        return answer

    def __getattr__(self, name):
        return getattr(self.inner, name)


class Died:
    async def charge(self, request):
        raise RuntimeError("the process died here")


async def stuck_checkout(api):
    """A checkout whose process died after allocating: its order PENDING_PAYMENT, its key
    PENDING; then time passes beyond what the sweeper and a retry wait for."""
    await set_stock(api, 1, SEATTLE, 2)
    cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE))
    cards = api.gateway.payments.cards
    api.gateway.payments.cards = Died()
    body = await api.gql(CHECKOUT, {"cartId": cart["id"], "payment": VISA, "key": "k"})
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL"
    provider = Provider(cards)
    api.gateway.payments.cards = provider
    api.advance(minutes=11)
    return cart, provider


def retry(api, cart, key="k"):
    return api.gql(CHECKOUT, {"cartId": cart["id"], "payment": VISA, "key": key})


async def order_count(api):
    async with api.store.engine.connect() as conn:
        return await conn.scalar(sa.select(sa.func.count()).select_from(orders))


def captured(provider):
    return [c for c in provider.inner.charges if not c.voided]


async def test_a_retry_while_the_sweeper_holds_the_checkout_charges_nothing(database_url):
    async with gateway(database_url, checkout_wait_seconds=0.2) as api:
        cart, provider = await stuck_checkout(api)
        answers = []

        async def retry_meanwhile():  # the sweeper has asked the provider: not charged
            answers.append(await retry(api, cart))

        provider.after_lookup = retry_meanwhile
        report = await api.gateway.sweep()
        assert (report.checkouts_undone, report.checkouts_completed) == (1, 0)
        [meanwhile] = answers
        codes = [e["code"] for e in meanwhile["data"]["checkoutComplete"]["userErrors"]]
        assert codes == ["CHECKOUT_IN_PROGRESS"]  # it waited for the sweeper, charged nothing
        assert provider.inner.charges == []
        assert await order_count(api) == 0
        later = (await retry(api, cart))["data"]["checkoutComplete"]
        assert [e["code"] for e in later["userErrors"]] == ["CHECKOUT_EXPIRED"]
        fresh = (await retry(api, cart, key="k2"))["data"]["checkoutComplete"]
        assert fresh["userErrors"] == [] and fresh["order"]["status"] == "ALLOCATED"
        assert len(captured(provider)) == 1 and len(provider.inner.charges) == 1  # charged once


async def test_the_sweeper_leaves_a_checkout_a_retry_is_finishing(database_url):
    async with gateway(database_url, checkout_wait_seconds=0.2) as api:
        cart, provider = await stuck_checkout(api)
        reports = []

        async def sweep_meanwhile():  # the retry holds the checkout and is charging
            reports.append(await api.gateway.sweep())

        provider.before_charge = sweep_meanwhile
        body = (await retry(api, cart))["data"]["checkoutComplete"]
        [report] = reports
        assert (report.checkouts_undone, report.checkouts_completed) == (0, 0)
        assert body["userErrors"] == [] and body["order"]["status"] == "ALLOCATED"
        assert len(captured(provider)) == 1
        assert await order_count(api) == 1
        report = await api.gateway.sweep()
        assert (report.checkouts_undone, report.checkouts_completed) == (0, 0)
        assert len(captured(provider)) == 1


async def test_a_charge_landing_after_the_order_was_undone_is_voided(database_url):
    """The first call itself is slow past the stale limit (no retry, so no claim): the sweeper
    undoes the order while the charge is on its way; the charge is voided when it lands."""
    async with gateway(database_url) as api:
        await set_stock(api, 1, SEATTLE, 2)
        cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE))
        provider = Provider(api.gateway.payments.cards)
        api.gateway.payments.cards = provider

        async def stall_then_sweep():
            api.advance(minutes=11)
            report = await api.gateway.sweep()
            assert report.checkouts_undone == 1

        provider.before_charge = stall_then_sweep
        body = (await retry(api, cart))["data"]["checkoutComplete"]
        assert [e["code"] for e in body["userErrors"]] == ["CHECKOUT_EXPIRED"]
        assert len(provider.inner.charges) == 1 and captured(provider) == []
        assert await order_count(api) == 0
