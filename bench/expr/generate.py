#!/usr/bin/env python3
"""Deterministic raw orders for the expression benchmark: plain JSON (no extended JSON, so that
canonry and jsonata-js read exactly the same values), with the mess of a real source: codes in
mixed case with spaces, numbers as strings, dates as ISO text with offsets or epoch millis."""
import argparse
import json
import random

STATUSES = ["P", "a", " S", "d ", "X", "R", "H"]
COUNTRIES = ["de", "FR", " it", "ES", "nl", "US", "ca", "BR", "JP", "AU", "ZA", "GB", "MX"]
CURRENCIES = ["eur", "USD", " gbp", "JPY", None]
CHANNELS = ["Web", "APP", "store", "web "]
NAMES = ["Ann Lee", "Bob Stone ", " Carla Weber", "Dmitri Ivanov", "Eve Adams", "Zoë Müller"]


def order(rng, i):
    items = []
    for _ in range(rng.randint(1, 5)):
        price = round(rng.uniform(0.5, 300), 2)
        qty = rng.randint(1, 9)
        items.append({
            "sku": rng.choice(["sku-", "SKU-", " Sku-"]) + str(rng.randint(10000, 99999)),
            "qty": qty if rng.random() < 0.8 else str(qty),
            "price": price if rng.random() < 0.7 else f"{price:.2f}",
        })
    millis = 1704067200000 + i * 61000 + rng.randint(0, 999)
    if rng.random() < 0.5:
        created = millis
    else:
        offset = rng.choice(["Z", "+02:00", "-05:00", "+0530"])
        # text for the UTC instant shifted by the offset, as a source in that zone would write it
        sign = 1 if offset[0] == "+" else -1
        minutes = 0 if offset == "Z" else sign * (int(offset[1:3]) * 60 + int(offset[-2:]))
        local = millis + minutes * 60000
        secs, ms = divmod(local, 1000)
        import datetime
        t = datetime.datetime.fromtimestamp(secs, datetime.timezone.utc)
        created = t.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms:03d}" + offset
    total = round(sum(float(it["price"]) * int(it["qty"]) for it in items), 2)
    doc = {
        "orderId": f"SO-{1000000 + i}" if rng.random() < 0.9 else 1000000 + i,
        "status": rng.choice(STATUSES),
        "customer": {"email": f"  {rng.choice(['Ann', 'BOB', 'carla'])}.{i}@Example.COM ",
                     "name": rng.choice(NAMES)},
        "items": items,
        "total": total if rng.random() < 0.5 else f"{total:.2f}",
        "currency": rng.choice(CURRENCIES),
        "createdAt": created,
        "shipping": {"country": rng.choice(COUNTRIES), "city": "X"},
        "giftWrap": rng.choice([True, False, "yes", "no", 0, 1]),
        "channel": rng.choice(CHANNELS),
    }
    if doc["currency"] is None:
        del doc["currency"]
    return doc


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with open(args.out, "w") as out:
        for i in range(args.count):
            out.write(json.dumps(order(rng, i), separators=(",", ":"), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
