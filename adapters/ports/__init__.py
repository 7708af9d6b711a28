"""The ports: what the gateway asks of a system of record, whichever system that is.

Each port is a Protocol with few methods, all batch-shaped (ids in, records out, any order), so a
resolver's DataLoader maps one GraphQL level to one upstream round trip. One module per domain, each
with the records only its ports speak (the records many ports share are adapters/records.py,
commerce.py and support.py); adding an upstream means reading the modules of the ports it implements:

    catalog     products, variants, categories, price lists        CatalogSource, PriceSource
    inventory   stores and warehouses, stock levels, adjustments   LocationDirectory, InventorySource
    carts       carts, their lines and the stock they hold         CartSource
    orders      placing, paying, fulfilling and returning orders   OrderSource
    payments    charges, refunds, gift cards                       PaymentGateway, GiftCardSource
    members     customers, profiles, consents, passwords, sign-ins MemberDirectory and its companions
    loyalty     members' points as a ledger                        LoyaltyLedger
    marketing   offers, segments, triggers and their webhooks      OfferStore, SegmentStore, TriggerStore
    support     conversations, a member's timeline, the audit log  TicketDesk, MemberTimeline, AuditLog
    analytics   report aggregates, purchase history                AnalyticsSource, PurchaseHistory
    erp         the ERP that fulfils orders, the outbox to it      OrderSink, OrderOutbox
    feeds       an upstream's catalog and stock, as changes        CatalogFeed, StockFeed
    paging      the window of an ordered listing                   KeysetPage
    refused     a write refused for a business reason              Refused
    upstreams   the systems chosen by configuration, one per port  Upstreams
"""
