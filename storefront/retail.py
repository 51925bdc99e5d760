"""The demo store's data: the Online Retail (France) invoices shipped with Basirat.

The file sits inside the package (``storefront/data/``, with its licence), so
the demo works from a fresh clone with nothing beside it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

RETAIL_FILE = Path(__file__).resolve().parent / "data" / "online_retail_france.csv.gz"


def read_retail(path: Path = RETAIL_FILE) -> pd.DataFrame:
    """Invoice lines with a customer, dates parsed and descriptions trimmed."""
    frame = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": "Int64"})
    frame = frame.dropna(subset=["CustomerID"])
    frame["InvoiceDate"] = pd.to_datetime(frame["InvoiceDate"], format="%m/%d/%Y %H:%M")
    frame["Description"] = frame["Description"].fillna("").str.strip()
    return frame
