"""Writes mock/: trimmed S/4HANA EDMX (SAP's public entity and property names) and a few dozen
rows per entity set, drawn from the demo retailer so SKUs and stores line up with the gateway.

Run from the repository root: `python -m tests.odata.make_mock` (the output is committed).
"""

from __future__ import annotations

import json
from pathlib import Path

from adapters.store.demo import demo_catalog

HERE = Path(__file__).parent / "mock"
PLANTS = {"1010": "SEA-PIKE", "1020": "PDX-PEARL", "1030": "WH-RNO"}
S, D, DT, DTO, B = "Edm.String", "Edm.Decimal", "Edm.DateTime", "Edm.DateTimeOffset", "Edm.Boolean"

# service -> entity set -> (keys, [(property, type, max length or precision/scale)], navigation)
SERVICES = {
    "API_PRODUCT_SRV": {
        "A_Product": (
            ["Product"],
            [
                ("Product", S, 40),
                ("ProductType", S, 4),
                ("CrossPlantConfigurableProduct", S, 40),
                ("ProductGroup", S, 9),
                ("BaseUnit", S, 3),
                ("IsMarkedForDeletion", B, None),
                ("LastChangeDateTime", DTO, None),
            ],
            [],
        ),
        "A_ProductDescription": (
            ["Product", "Language"],
            [("Product", S, 40), ("Language", S, 2), ("ProductDescription", S, 40)],
            [],
        ),
    },
    "API_MATERIAL_STOCK_SRV": {
        "A_MatlStkInAcctMod": (
            [
                "Material",
                "Plant",
                "StorageLocation",
                "Batch",
                "Supplier",
                "Customer",
                "WBSElementInternalID",
                "SDDocument",
                "SDDocumentItem",
                "InventorySpecialStockType",
                "InventoryStockType",
            ],
            [
                ("Material", S, 40),
                ("Plant", S, 4),
                ("StorageLocation", S, 4),
                ("Batch", S, 10),
                ("Supplier", S, 10),
                ("Customer", S, 10),
                ("WBSElementInternalID", S, 24),
                ("SDDocument", S, 10),
                ("SDDocumentItem", S, 6),
                ("InventorySpecialStockType", S, 1),
                ("InventoryStockType", S, 2),
                ("MaterialBaseUnit", S, 3),
                ("MatlWrhsStkQtyInMatlBaseUnit", D, (31, 14)),
            ],
            [],
        ),
    },
    "API_SALES_ORDER_SRV": {
        "A_SalesOrder": (
            ["SalesOrder"],
            [
                ("SalesOrder", S, 10),
                ("SalesOrderType", S, 4),
                ("SalesOrganization", S, 4),
                ("DistributionChannel", S, 2),
                ("OrganizationDivision", S, 2),
                ("SoldToParty", S, 10),
                ("PurchaseOrderByCustomer", S, 35),
                ("CreationDate", DT, None),
                ("TransactionCurrency", S, 5),
                ("TotalNetAmount", D, (16, 3)),
                ("OverallSDProcessStatus", S, 1),
            ],
            [("to_Item", "A_SalesOrderItem", "SalesOrder")],
        ),
        "A_SalesOrderItem": (
            ["SalesOrder", "SalesOrderItem"],
            [
                ("SalesOrder", S, 10),
                ("SalesOrderItem", S, 6),
                ("Material", S, 40),
                ("RequestedQuantity", D, (15, 3)),
                ("RequestedQuantityUnit", S, 3),
                ("NetAmount", D, (16, 3)),
                ("TransactionCurrency", S, 5),
                ("ProductionPlant", S, 4),
            ],
            [],
        ),
    },
    "API_BUSINESS_PARTNER": {
        "A_BusinessPartner": (
            ["BusinessPartner"],
            [
                ("BusinessPartner", S, 10),
                ("BusinessPartnerCategory", S, 1),
                ("FirstName", S, 40),
                ("LastName", S, 40),
                ("BusinessPartnerFullName", S, 81),
                ("LastChangeDate", DT, None),
            ],
            [],
        ),
        "A_BusinessPartnerAddress": (
            ["BusinessPartner", "AddressID"],
            [
                ("BusinessPartner", S, 10),
                ("AddressID", S, 10),
                ("StreetName", S, 60),
                ("CityName", S, 40),
                ("PostalCode", S, 10),
                ("Country", S, 3),
            ],
            [],
        ),
        "A_AddressEmailAddress": (
            ["AddressID", "Person", "OrdinalNumber"],
            [
                ("AddressID", S, 10),
                ("Person", S, 10),
                ("OrdinalNumber", S, 3),
                ("EmailAddress", S, 241),
            ],
            [],
        ),
    },
}


def _property(name: str, kind: str, size: object, key: bool) -> str:
    facets = ' Nullable="false"' if key else ""
    if kind == S:
        facets += f' MaxLength="{size}"'
    elif kind == D:
        precision, scale = size  # type: ignore[misc]
        facets += f' Precision="{precision}" Scale="{scale}"'
    elif kind == DTO:
        facets += ' Precision="7"'
    elif kind == DT:
        facets += ' Precision="0" sap:display-format="Date"'
    label = "".join(" " + c if c.isupper() else c for c in name).strip()
    return f'<Property Name="{name}" Type="{kind}"{facets} sap:label="{label}"/>'


def metadata(service: str, sets: dict) -> str:
    types, associations, container = [], [], []
    for entity_set, (keys, props, navs) in sets.items():
        key_refs = "".join(f'<PropertyRef Name="{k}"/>' for k in keys)
        body = "".join(_property(n, t, s, n in keys) for n, t, s in props)
        for nav, target, via in navs:
            assoc = f"assoc_{entity_set}_{nav}"
            body += (
                f'<NavigationProperty Name="{nav}" Relationship="{service}.{assoc}" '
                f'FromRole="FromRole_{assoc}" ToRole="ToRole_{assoc}"/>'
            )
            associations.append(
                f'<Association Name="{assoc}" sap:content-version="1">'
                f'<End Type="{service}.{entity_set}Type" Multiplicity="1" Role="FromRole_{assoc}"/>'
                f'<End Type="{service}.{target}Type" Multiplicity="*" Role="ToRole_{assoc}"/>'
                f'<ReferentialConstraint><Principal Role="FromRole_{assoc}">'
                f'<PropertyRef Name="{via}"/>'
                f'</Principal><Dependent Role="ToRole_{assoc}"><PropertyRef Name="{via}"/>'
                f"</Dependent></ReferentialConstraint></Association>"
            )
            container.append(
                f'<AssociationSet Name="{assoc}_set" Association="{service}.{assoc}" '
                f'sap:creatable="false" sap:updatable="false" sap:deletable="false">'
                f'<End EntitySet="{entity_set}" Role="FromRole_{assoc}"/>'
                f'<End EntitySet="{target}" Role="ToRole_{assoc}"/></AssociationSet>'
            )
        types.append(
            f'<EntityType Name="{entity_set}Type" sap:content-version="1">'
            f"<Key>{key_refs}</Key>{body}</EntityType>"
        )
        container.insert(
            0,
            f'<EntitySet Name="{entity_set}" EntityType="{service}.{entity_set}Type" '
            f'sap:content-version="1"/>',
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" '
        'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" '
        'xmlns:sap="http://www.sap.com/Protocols/SAPData">\n'
        '<edmx:DataServices m:DataServiceVersion="2.0">\n'
        f'<Schema Namespace="{service}" xml:lang="en" sap:schema-version="1" '
        'xmlns="http://schemas.microsoft.com/ado/2008/09/edm">\n'
        + "\n".join(types + associations)
        + f'\n<EntityContainer Name="{service}_Entities" m:IsDefaultEntityContainer="true" '
        'sap:supported-formats="atom json xlsx">\n'
        + "\n".join(container)
        + "\n</EntityContainer>\n</Schema>\n</edmx:DataServices>\n</edmx:Edmx>\n"
    )


def rows(count: int = 8) -> dict[str, dict[str, list[dict]]]:
    demo = demo_catalog(7)
    products = {p["id"]: p for p in demo.products[:count]}
    variants = [v for v in demo.variants if v["product_id"] in products]
    codes = {loc["id"]: loc["code"] for loc in demo.locations}
    plant_of = {code: plant for plant, code in PLANTS.items()}
    stamp = "/Date(1763510400000+0000)/"  # 2025-11-19, before any test's changes
    product, description = [], []
    for n, p in enumerate(products.values()):
        # a minute apart, as real changes would be, before any test's own changes
        stamp = f"/Date({1763510400000 + n * 60000}+0000)/"
        variants_of = [v for v in variants if v["product_id"] == p["id"]]
        generic = "-".join(variants_of[0]["sku"].split("-")[:3])  # brand-category-number
        group = p["category"].replace(" ", "").upper()[:9]
        product.append(
            {
                "Product": generic,
                "ProductType": "KMAT",
                "CrossPlantConfigurableProduct": "",
                "ProductGroup": group,
                "BaseUnit": "EA",
                "IsMarkedForDeletion": False,
                "LastChangeDateTime": stamp,
            }
        )
        description.append({"Product": generic, "Language": "EN", "ProductDescription": p["title"][:40]})
        for v in variants_of:
            product.append(
                {
                    "Product": v["sku"],
                    "ProductType": "FERT",
                    "CrossPlantConfigurableProduct": generic,
                    "ProductGroup": group,
                    "BaseUnit": "EA",
                    "IsMarkedForDeletion": False,
                    "LastChangeDateTime": stamp,
                }
            )
            description.append(
                {
                    "Product": v["sku"],
                    "Language": "EN",
                    "ProductDescription": f"{p['title']} {v['title']}"[:40],
                }
            )
    wanted = {v["id"]: v["sku"] for v in variants}
    stock = []
    for level in demo.inventory_levels:
        plant = plant_of.get(codes[level["location_id"]])
        if level["variant_id"] not in wanted or not plant:
            continue
        # SAP's counts differ from the demo's, so a first sync has something to change.
        quantity = level["on_hand"] + level["variant_id"] % 3 + 1
        row = {
            "Material": wanted[level["variant_id"]],
            "Plant": plant,
            "StorageLocation": "0001",
            "Batch": "",
            "Supplier": "",
            "Customer": "",
            "WBSElementInternalID": "",
            "SDDocument": "",
            "SDDocumentItem": "",
            "InventorySpecialStockType": "",
            "InventoryStockType": "01",
            "MaterialBaseUnit": "EA",
            "MatlWrhsStkQtyInMatlBaseUnit": str(quantity),
        }
        if level["variant_id"] % 4 == 0:  # split over two storage locations: the plant sums them
            stock.append({**row, "StorageLocation": "0002", "MatlWrhsStkQtyInMatlBaseUnit": "1"})
            row["MatlWrhsStkQtyInMatlBaseUnit"] = str(quantity - 1)
        stock.append(row)
        if level["variant_id"] % 5 == 0:  # blocked stock (type 07) is not sellable
            stock.append({**row, "InventoryStockType": "07", "MatlWrhsStkQtyInMatlBaseUnit": "2"})
    people = [
        ("Ada", "Lovelace", "1 Pike St", "Seattle", "98101"),
        ("Grace", "Hopper", "2 Pearl St", "Portland", "97209"),
        ("Alan", "Turing", "3 Hayes St", "San Francisco", "94102"),
    ]
    partners, addresses, emails = [], [], []
    for n, (first, last, street, city, zip_code) in enumerate(people, start=1):
        bp, address = f"{1000000 + n}", f"{2000 + n}"
        partners.append(
            {
                "BusinessPartner": bp,
                "BusinessPartnerCategory": "1",
                "FirstName": first,
                "LastName": last,
                "BusinessPartnerFullName": f"{first} {last}",
                "LastChangeDate": stamp,
            }
        )
        addresses.append(
            {
                "BusinessPartner": bp,
                "AddressID": address,
                "StreetName": street,
                "CityName": city,
                "PostalCode": zip_code,
                "Country": "US",
            }
        )
        emails.append(
            {
                "AddressID": address,
                "Person": "",
                "OrdinalNumber": "1",
                "EmailAddress": f"{first.lower()}@example.com",
            }
        )
    orders = [
        {
            "SalesOrder": "4000001",
            "SalesOrderType": "OR",
            "SalesOrganization": "1010",
            "DistributionChannel": "10",
            "OrganizationDivision": "00",
            "SoldToParty": "1000001",
            "PurchaseOrderByCustomer": "LEGACY-1",
            "CreationDate": stamp,
            "TransactionCurrency": "USD",
            "TotalNetAmount": "57.500",
            "OverallSDProcessStatus": "C",
        }
    ]
    items = [
        {
            "SalesOrder": "4000001",
            "SalesOrderItem": "10",
            "Material": variants[0]["sku"],
            "RequestedQuantity": "1.000",
            "RequestedQuantityUnit": "EA",
            "NetAmount": "57.500",
            "TransactionCurrency": "USD",
            "ProductionPlant": "1010",
        }
    ]
    return {
        "API_PRODUCT_SRV": {"A_Product": product, "A_ProductDescription": description},
        "API_MATERIAL_STOCK_SRV": {"A_MatlStkInAcctMod": stock},
        "API_SALES_ORDER_SRV": {"A_SalesOrder": orders, "A_SalesOrderItem": items},
        "API_BUSINESS_PARTNER": {
            "A_BusinessPartner": partners,
            "A_BusinessPartnerAddress": addresses,
            "A_AddressEmailAddress": emails,
        },
    }


def main(target: Path = HERE, count: int = 8) -> None:
    data = rows(count)
    for service, sets in SERVICES.items():
        folder = target / service
        (folder / "data").mkdir(parents=True, exist_ok=True)
        (folder / "metadata.xml").write_text(metadata(service, sets))
        for entity_set, content in data[service].items():
            (folder / "data" / f"{entity_set}.json").write_text(json.dumps(content, indent=1) + "\n")


if __name__ == "__main__":
    main()
