"""The demo store's catalog, made from the Online Retail (France) invoices.

Stock codes are the product ids (the same ids the demo history carries, so
recommendations mined from it name products the store sells); names and
prices are the real ones; categories come from words in the description.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from core.text import matches

# First match wins: specific kinds of thing before the broad themes.
CATEGORIES: list[tuple[str, str, str]] = [
    ("christmas", "Christmas", r"CHRISTMAS|XMAS|ADVENT|SNOW|REINDEER|SANTA"),
    ("lighting", "Lights & candles", r"LIGHT|LANTERN|CANDLE|T-LIGHT|LAMP|NIGHT"),
    (
        "kitchen",
        "Kitchen & tea time",
        r"MUG|CUP|PLATE|BOWL|BEAKER|CUTLERY|NAPKIN|TEA|CAKE|BAKING|APRON|"
        r"LUNCH|JAR|BOTTLE|KITCHEN|DOILY|SPOON|TRAY|COASTER|JUG|GLASS|OVEN|BREAD|EGG|CUTTER|STRAW",
    ),
    ("bags", "Bags & storage", r"\bBAG|BACKPACK|SHOPPER|STORAGE|BASKET|BOX"),
    (
        "stationery",
        "Paper & stationery",
        r"CARD|WRAP|PAPER|NOTEBOOK|PEN\b|PENCIL|STICKER|RULER|TAPE|"
        r"ERASER|CALENDAR|DIARY|ENVELOPE|TISSUE|MAGNET|STAMP",
    ),
    (
        "kids",
        "Kids & party",
        r"SPACEBOY|CHILD|KIDS|TOY|DOLL|GAME|PARTY|BALLOON|BUNTING|JIGSAW|"
        r"DOLLY|SKIPPING|CIRCUS|ALPHABET|BLOCK|PLAYHOUSE|COLOURING|CRAYON|PAINT",
    ),
    ("garden", "Garden & outdoors", r"GARDEN|PICNIC|UMBRELLA|WATERING|BIRD|FLOWER|PLANT|HOT WATER"),
    (
        "home",
        "Home & décor",
        r"CLOCK|FRAME|SIGN|DOORMAT|CUSHION|DECORATION|HEART|HOLDER|HOOK|"
        r"MIRROR|DRAWER|CABINET|WALL|QUILT|THROW|HANGING|ORNAMENT|VASE|BUNNY|DOORSTOP",
    ),
]
OTHER = ("gifts", "Gifts & treats")
PRODUCT_CODE = re.compile(r"^\d{5}[A-Za-z]{0,2}$")


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    price: float
    category: str
    category_name: str
    sold: int

    def as_event(self, quantity: int = 1) -> dict:
        """The Segment Ecommerce v2 product fields."""
        return {
            "product_id": self.product_id,
            "sku": self.product_id,
            "name": self.name,
            "price": self.price,
            "category": self.category_name,
            "quantity": quantity,
            "currency": "GBP",
        }


def categorize(description: str) -> tuple[str, str]:
    """(slug, display name) of a product, from words in its description."""
    upper = description.upper()
    for slug, name, pattern in CATEGORIES:
        if re.search(pattern, upper):
            return slug, name
    return OTHER


def products_from_invoices(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per stock code: its common name, usual price and units sold.

    Postage, manual adjustments and cancellations are not products; the price
    is the median unit price the store charged for the item.
    """
    lines = frame[frame["StockCode"].astype(str).str.match(PRODUCT_CODE) & (frame["Quantity"] > 0)]
    lines = lines[(lines["UnitPrice"] > 0) & (lines["Description"].fillna("").str.strip() != "")]
    grouped = lines.groupby("StockCode")
    out = pd.DataFrame(
        {
            "name": grouped["Description"].agg(lambda names: names.str.strip().mode().iloc[0]),
            "price": grouped["UnitPrice"].median().round(2),
            "sold": grouped["Quantity"].sum().astype(int),
        }
    ).reset_index()
    return out.rename(columns={"StockCode": "product_id"}).sort_values(["sold", "product_id"], ascending=[False, True])


def _title(name: str) -> str:
    small = {"Of", "And", "The", "In", "With", "A", "For"}
    words = name.title().split()
    return " ".join(w.lower() if i and w in small else w for i, w in enumerate(words))


class Catalog:
    """Products by id, by category and by popularity."""

    def __init__(self, rows: pd.DataFrame):
        self.products: dict[str, Product] = {}
        for row in rows.itertuples(index=False):
            slug, category = categorize(row.name)
            self.products[row.product_id] = Product(
                row.product_id, _title(row.name), float(row.price), slug, category, int(row.sold)
            )
        self.popular = sorted(self.products.values(), key=lambda p: (-p.sold, p.product_id))
        self.categories = [(slug, name) for slug, name, _ in CATEGORIES] + [OTHER]

    def get(self, product_id: str) -> Product | None:
        return self.products.get(product_id)

    def in_category(self, slug: str) -> list[Product]:
        return [p for p in self.popular if p.category == slug]

    def search(self, query: str, limit: int = 48) -> list[Product]:
        """Products whose name holds every word of ``query``, folded as ``core.text.fold`` does
        (case, Arabic and Persian letter variants, digits, joiners)."""
        return [p for p in self.popular if matches(query, p.name)][:limit]

    def related(self, product: Product, limit: int = 4) -> list[Product]:
        return [p for p in self.in_category(product.category) if p.product_id != product.product_id][:limit]
