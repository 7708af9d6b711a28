"""The gateway's own store: one database and the port implementations that read and write through
it (the sub-stores), its migrations and its demo seed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.ports.upstreams import Upstreams
from adapters.store import tables
from adapters.store.analytics import StoreAnalytics
from adapters.store.audit import StoreAuditLog, StoreSignIns
from adapters.store.carts import StoreCarts
from adapters.store.catalog import StoreCatalog
from adapters.store.engine import Database, create_engine
from adapters.store.gift_cards import StoreGiftCards
from adapters.store.inventory import StoreInventory
from adapters.store.locations import StoreLocations
from adapters.store.loyalty import StoreLoyalty
from adapters.store.members import StoreMembers
from adapters.store.offers import StoreOffers
from adapters.store.orders import StoreOrders
from adapters.store.prices import StorePrices
from adapters.store.privacy import StoreMemberData
from adapters.store.profiles import StoreProfiles
from adapters.store.purchases import StorePurchases
from adapters.store.segments import StoreSegments
from adapters.store.tickets import StoreTickets
from adapters.store.timeline import StoreTimeline
from adapters.store.triggers import StoreTriggers

if TYPE_CHECKING:
    from adapters.ports.payments import PaymentGateway

_MIGRATIONS = Path(__file__).parent / "migrations"


class Store(Database):
    """The database plus the port implementations that read and write through it."""

    def __init__(self, engine: AsyncEngine, currency_code: str) -> None:
        super().__init__(engine, currency_code)
        self.catalog = StoreCatalog(self)
        self.locations = StoreLocations(self)
        self.inventory = StoreInventory(self)
        self.carts = StoreCarts(self)
        self.orders = StoreOrders(self)
        self.gift_cards = StoreGiftCards(self)
        self.members = StoreMembers(self)
        self.loyalty = StoreLoyalty(self)
        self.profiles = StoreProfiles(self)  # gateway-owned fields of members kept in a CRM
        self.purchases = StorePurchases(self)
        self.prices = StorePrices(self)
        self.member_data = StoreMemberData(self)  # consents; export and erasure
        self.segments = StoreSegments(self)
        self.offers = StoreOffers(self)
        self.triggers = StoreTriggers(self)
        self.tickets = StoreTickets(self)
        self.audit = StoreAuditLog(self)
        self.sign_ins = StoreSignIns(self)
        self.analytics = StoreAnalytics(self)
        self.timeline = StoreTimeline(self)

    def upstreams(self, payments: PaymentGateway) -> Upstreams:
        return Upstreams(
            catalog=self.catalog,
            locations=self.locations,
            inventory=self.inventory,
            carts=self.carts,
            orders=self.orders,
            gift_cards=self.gift_cards,
            payments=payments,
            members=self.members,
            member_credentials=self.members,
            loyalty=self.loyalty,
            purchases=self.purchases,
            prices=self.prices,
            member_data=self.member_data,
            segments=self.segments,
            offers=self.offers,
            triggers=self.triggers,
            tickets=self.tickets,
            audit=self.audit,
            sign_ins=self.sign_ins,
            analytics=self.analytics,
            timeline=self.timeline,
        )

    async def migrate(self, revision: str = "head") -> None:
        """Upgrade the schema to `revision` (tests upgrade step by step, with data in between)."""
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(omnigate_writes=True)
            await conn.run_sync(_upgrade, revision)
            await conn.commit()

    async def is_empty(self) -> bool:
        async with self.reading() as conn:
            return (await conn.scalar(select(func.count()).select_from(tables.products))) == 0

    async def seed_demo(self, seed: int = 7, history: bool = False) -> None:
        from adapters.store.seed import seed_demo

        await seed_demo(self, seed, history)


def _upgrade(sync_conn: Any, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = sync_conn
    command.upgrade(config, revision)


def open_store(url: str, *, currency_code: str = "USD", pool_size: int = 10, echo: bool = False) -> Store:
    return Store(create_engine(url, pool_size=pool_size, echo=echo), currency_code)
