#!/usr/bin/env python3
"""Deterministic generator of order data from the three sources of the orders example.

  generate.py --source shop_v1 --format json     mongoexport extended JSON lines (relaxed, some
                                                   documents canonical)
  generate.py --source shop_v1 --format bson     a mongodump file: the same documents as BSON
  generate.py --source shop_v2 --format debezium Debezium MongoDB connector change-event values
  generate.py --source shop_v2 --format kcat     the same events as `kcat -C -J` envelopes (with
                                                   the Debezium message key)
  generate.py --source shop_v3 --format kcat     `kcat -C -J` envelopes of the third service's
                                                   events
  generate.py --source shop_v3 --format json     the bare event payloads, one per line

Same arguments, same bytes: every choice comes from one seeded random.Random. `--count` and
`--bytes` bound the output (whichever is reached first). `--bad-fraction` turns that share of the
records into ones a decoder or a mapping must reject (truncated, invalid UTF-8, wrong types), for
dead-letter-queue tests. Python standard library only: BSON is encoded here with struct.
"""
import argparse
import json
import random
import struct
import sys
import time

# ---------------------------------------------------------------------------------------------
# Value types that JSON has no native form for. Plain Python values map as: str, bool, None,
# dict, list; int -> int32 when it fits else int64; float -> double.


class ObjectId:
    __slots__ = ("raw",)

    def __init__(self, raw):
        self.raw = raw


class Date:
    __slots__ = ("ms",)

    def __init__(self, ms):
        self.ms = ms


class Decimal128:
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text


class Int64:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


# Placeholder spliced out of the encoded bytes for an invalid UTF-8 sequence: encoders only deal
# with valid text, the corruption happens after encoding.
BAD_UTF8_MARK = "\u2603BADUTF8\u2603"
BAD_UTF8_MARK_BYTES = BAD_UTF8_MARK.encode()
BAD_UTF8_BYTES = b"J\xc3\x28rg\xff"  # a lead byte without its continuation, then 0xFF

# ---------------------------------------------------------------------------------------------
# Time formatting


def iso_utc(ms, always_millis=False):
    seconds, millis = divmod(ms, 1000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    if millis or always_millis:
        return f"{text}.{millis:03d}Z"
    return text + "Z"


def iso_with_offset(ms, offset_minutes, millis=True):
    seconds, frac = divmod(ms + offset_minutes * 60000, 1000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    if millis:
        text += f".{frac:03d}"
    if offset_minutes == 0:
        return text + "Z"
    sign = "+" if offset_minutes > 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


# ---------------------------------------------------------------------------------------------
# Extended JSON (mongoexport relaxed / canonical) and BSON encoders


def to_extended(value, canonical):
    """The value as a structure json.dumps can write, MongoDB extended JSON v2."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is dict:
        return {k: to_extended(v, canonical) for k, v in value.items()}
    if kind is list:
        return [to_extended(v, canonical) for v in value]
    if kind is int:
        if not canonical:
            return value
        return {"$numberInt" if -2**31 <= value < 2**31 else "$numberLong": str(value)}
    if kind is float:
        return {"$numberDouble": repr(value)} if canonical else value
    if kind is ObjectId:
        return {"$oid": value.raw.hex()}
    if kind is Date:
        if canonical:
            return {"$date": {"$numberLong": str(value.ms)}}
        return {"$date": iso_utc(value.ms)}
    if kind is Decimal128:
        return {"$numberDecimal": value.text}
    if kind is Int64:
        return {"$numberLong": str(value.value)} if canonical else value.value
    raise TypeError(f"no extended JSON form for {kind.__name__}")


def dump_extended(doc, canonical, spaced=False):
    separators = (", ", ": ") if spaced else (",", ":")
    return json.dumps(to_extended(doc, canonical), ensure_ascii=False, separators=separators)


def decimal128_bytes(text):
    """IEEE 754-2008 decimal128, binary integer decimal encoding, as BSON stores it."""
    negative = text.startswith("-")
    digits = text.lstrip("+-")
    exponent = 0
    if "." in digits:
        whole, fraction = digits.split(".")
        digits = whole + fraction
        exponent = -len(fraction)
    coefficient = int(digits)
    high = (int(negative) << 63) | ((exponent + 6176) << 49) | (coefficient >> 64)
    low = coefficient & 0xFFFFFFFFFFFFFFFF
    return struct.pack("<QQ", low, high)


def bson_element(name, value):
    key = name.encode() + b"\x00"
    kind = type(value)
    if kind is str:
        data = value.encode().replace(BAD_UTF8_MARK_BYTES, BAD_UTF8_BYTES)
        return b"\x02" + key + struct.pack("<i", len(data) + 1) + data + b"\x00"
    if kind is bool:
        return b"\x08" + key + (b"\x01" if value else b"\x00")
    if kind is int:
        if -2**31 <= value < 2**31:
            return b"\x10" + key + struct.pack("<i", value)
        return b"\x12" + key + struct.pack("<q", value)
    if kind is float:
        return b"\x01" + key + struct.pack("<d", value)
    if kind is dict:
        return b"\x03" + key + bson_document(value)
    if kind is list:
        return b"\x04" + key + bson_document({str(i): v for i, v in enumerate(value)})
    if value is None:
        return b"\x0a" + key
    if kind is ObjectId:
        return b"\x07" + key + value.raw
    if kind is Date:
        return b"\x09" + key + struct.pack("<q", value.ms)
    if kind is Decimal128:
        return b"\x13" + key + decimal128_bytes(value.text)
    if kind is Int64:
        return b"\x12" + key + struct.pack("<q", value.value)
    raise TypeError(f"no BSON form for {kind.__name__}")


def bson_document(doc):
    body = b"".join([bson_element(k, v) for k, v in doc.items()])
    return struct.pack("<i", len(body) + 5) + body + b"\x00"


# ---------------------------------------------------------------------------------------------
# Shared vocabulary

FIRST_NAMES = ["Alice", "Bob", "Carla", "David", "Emma", "Felix", "Greta", "Hugo", "Ines", "Jonas",
               "Karin", "Liam", "Maria", "Noah", "Olivia", "Paul", "Quinn", "Rosa", "Samuel",
               "Tara", "Ulrich", "Vera", "William", "Yara", "Zoe", "José", "Zoë", "Łukasz",
               "Søren", "Françoise", "Jürgen", "Siân"]
LAST_NAMES = ["Smith", "Jones", "Müller", "Schmidt", "García", "Rossi", "Dubois", "Nowak",
              "Jensen", "Kowalski", "Brown", "Taylor", "Wilson", "Martin", "Bernard", "Fischer",
              "Weber", "Moreau", "López", "Novák", "O'Brien", "Nakamura", "Silva", "Patel"]
ASCII_FOLD = str.maketrans({"é": "e", "ë": "e", "Ł": "L", "ł": "l", "ø": "o", "ç": "c",
                            "ü": "u", "â": "a", "á": "a", "í": "i", "ó": "o", "š": "s", "'": ""})
DOMAINS = ["example.com", "example.org", "mail.example.net", "shop.example", "example.de"]
COUNTRIES = ["DE", "DE", "DE", "FR", "FR", "IT", "ES", "NL", "PL", "GB", "SE", "US", "US", "US",
             "CA", "MX", "BR", "JP", "AU", "SG", "ZA"]
CITIES = {"DE": "Berlin", "FR": "Lyon", "IT": "Milano", "ES": "Sevilla", "NL": "Utrecht",
          "PL": "Kraków", "GB": "Leeds", "SE": "Malmö", "US": "Austin", "CA": "Québec",
          "MX": "Puebla", "BR": "Curitiba", "JP": "Ōsaka", "AU": "Perth", "SG": "Singapore",
          "ZA": "Durban"}
CURRENCY = {"US": "USD", "CA": "CAD", "MX": "MXN", "BR": "BRL", "JP": "JPY", "AU": "AUD",
            "SG": "SGD", "ZA": "ZAR", "GB": "GBP", "SE": "SEK", "PL": "PLN"}
CHANNELS = ["web", "web", "web", "app", "app", "store", "phone"]
OFFSETS = [0, 60, 120, -300, -420, 330, 540]
START_MS = 1704067200000  # 2024-01-01T00:00:00Z


def cents_text(cents):
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}{whole}.{fraction:02d}"


class Shop:
    """Shared state of one generated stream: the random source, a clock and counters."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        # Choices that must not change the documents (how a record is written, which records go
        # bad) draw from their own source, so that the JSON and the BSON of one seed hold the same
        # documents.
        self.side_rng = random.Random(seed * 7919 + 1)
        self.now_ms = START_MS
        self.sequence = 0
        self.oid_counter = self.rng.randrange(1 << 24)
        self.oid_process = bytes(self.rng.randrange(256) for _ in range(5))

    def tick(self):
        self.now_ms += self.rng.randrange(60000)
        self.sequence += 1
        return self.now_ms

    def object_id(self):
        self.oid_counter = (self.oid_counter + 1) & 0xFFFFFF
        return ObjectId(struct.pack(">I", self.now_ms // 1000) + self.oid_process +
                        self.oid_counter.to_bytes(3, "big"))

    def person(self):
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{first}.{last}".translate(ASCII_FOLD)
        if rng.random() < 0.3:
            local += str(rng.randrange(1, 99))
        email = f"{local}@{rng.choice(DOMAINS)}"
        return first, last, email

    def messy_email(self, email):
        """Mixed case and surrounding white space, as hand-typed legacy data has them."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.2:
            email = email.upper()
        elif roll < 0.5:
            local, domain = email.split("@")
            email = local + "@" + domain.capitalize()
        elif roll < 0.8:
            email = email.lower()
        if rng.random() < 0.15:
            email = rng.choice([" ", "  ", "\t"]) + email + rng.choice(["", " ", " \t"])
        return email

    def basket(self, max_lines=4):
        """(sku, quantity, unit price in cents) lines; sometimes none (an emptied cart)."""
        rng = self.rng
        count = 0 if rng.random() < 0.02 else min(max_lines, rng.choice([1, 1, 1, 2, 2, 3, 4]))
        return [(f"SKU-{rng.randrange(100000):05d}", rng.choice([1, 1, 1, 2, 2, 3, 5, 10]),
                 rng.choice([99, 199, 250, 499, 799, 1250, 1999, 2500, 4999, 12900,
                             rng.randrange(50, 50000)]))
                for _ in range(count)]


# ---------------------------------------------------------------------------------------------
# shop_v1: the legacy MongoDB collection

V1_STATUS = ["P", "P", "A", "S", "S", "S", "D", "D", "X", "R", "H"]  # H: on hold, not mapped


def v1_amount(rng, cents):
    """Legacy amounts: Decimal128 mostly, some doubles, some strings, some integral ints."""
    roll = rng.random()
    if roll < 0.55:
        return Decimal128(cents_text(cents))
    if roll < 0.85:
        return cents // 100 if cents % 100 == 0 else cents / 100
    return cents_text(cents)


def v1_document(shop, bad_kind=None):
    rng = shop.rng
    created = shop.tick()
    oid = shop.object_id()
    first, last, email = shop.person()
    doc = {"_id": oid}
    roll = rng.random()
    if roll < 0.90:
        doc["orderId"] = f"SO-{1000000 + shop.sequence:07d}"
    elif roll < 0.96:
        doc["orderId"] = Int64(1000000 + shop.sequence)  # from before order numbers had prefixes
    status = rng.choice(V1_STATUS)
    roll = rng.random()
    if roll < 0.1:
        status = status.lower()
    elif roll < 0.15:
        status = f" {status} "
    doc["status"] = status
    name = f"{first} {last}"
    customer = {"email": shop.messy_email(email),
                "name": None if rng.random() < 0.05 else (name + " " if rng.random() < 0.05
                                                          else name)}
    if rng.random() < 0.3:
        customer["phone"] = f"+49 30 {rng.randrange(1000000, 9999999)}"
    doc["customer"] = customer
    lines = shop.basket()
    items = []
    for sku, qty, cents in lines:
        roll = rng.random()
        qty_value = qty if roll < 0.8 else (str(qty) if roll < 0.9 else Int64(qty))
        items.append({"sku": sku.lower() if rng.random() < 0.05 else sku, "qty": qty_value,
                      "price": v1_amount(rng, cents)})
    doc["items"] = items
    total = sum(q * c for _, q, c in lines)
    doc["amount" if rng.random() < 0.05 else "total"] = v1_amount(rng, total)
    country = rng.choice(COUNTRIES)
    roll = rng.random()
    if roll < 0.95:
        currency = CURRENCY.get(country, "EUR")
        doc["currency"] = currency.lower() if rng.random() < 0.1 else currency
    roll = rng.random()
    if roll < 0.9:
        doc["createdAt"] = Date(created)
    elif roll < 0.95:
        doc["createdAt"] = iso_with_offset(created, rng.choice(OFFSETS))
    elif roll < 0.97:
        doc["createdAt"] = iso_utc(created - created % 1000).replace("T", " ").rstrip("Z")
    else:
        doc["createdAt"] = Int64(created)
    doc["shipping"] = {"country": country.lower() if rng.random() < 0.1 else country,
                       "city": CITIES[country], "zip": f"{rng.randrange(10000, 99999)}"}
    roll = rng.random()
    if roll < 0.6:
        doc["giftWrap"] = rng.random() < 0.2
    elif roll < 0.75:
        doc["giftWrap"] = rng.choice(["yes", "no", "YES", "No", "true", "0"])
    elif roll < 0.85:
        doc["giftWrap"] = rng.choice([0, 1])
    doc["channel"] = rng.choice(CHANNELS)

    if bad_kind == "wrong_type":
        if items:
            items[0]["qty"] = shop.side_rng.choice(["abc", "two", "1.5"])
        else:
            doc["createdAt"] = "yesterday"
    elif bad_kind == "bad_utf8":
        customer["name"] = BAD_UTF8_MARK
    return doc


# ---------------------------------------------------------------------------------------------
# shop_v2: Debezium change events of the newer service

V2_NEXT = {"NEW": ["PAID", "PAID", "CANCELLED"], "PAID": ["SHIPPED", "SHIPPED", "REFUNDED"],
           "SHIPPED": ["DELIVERED"], "DELIVERED": ["REFUNDED"], "CANCELLED": [],
           "REFUNDED": []}
DEBEZIUM_SCHEMA = {
    "type": "struct", "optional": False, "name": "shop_v2.shop.orders.Envelope", "version": 1,
    "fields": [
        {"type": "string", "optional": True, "name": "io.debezium.data.Json", "version": 1,
         "field": "before"},
        {"type": "string", "optional": True, "name": "io.debezium.data.Json", "version": 1,
         "field": "after"},
        {"type": "struct", "optional": True, "name": "io.debezium.connector.mongodb.changestream"
         ".updatedescription", "version": 1, "field": "updateDescription", "fields": [
             {"type": "array", "items": {"type": "string", "optional": False},
              "optional": True, "field": "removedFields"},
             {"type": "string", "optional": True, "name": "io.debezium.data.Json", "version": 1,
              "field": "updatedFields"},
             {"type": "array", "items": {"type": "struct", "optional": False, "fields": [
                 {"type": "string", "optional": False, "field": "field"},
                 {"type": "int32", "optional": False, "field": "size"}]},
              "optional": True, "field": "truncatedArrays"}]},
        {"type": "struct", "optional": False, "name": "io.debezium.connector.mongo.Source",
         "field": "source", "fields": [
             {"type": "string", "optional": False, "field": "version"},
             {"type": "string", "optional": False, "field": "connector"},
             {"type": "string", "optional": False, "field": "name"},
             {"type": "int64", "optional": False, "field": "ts_ms"},
             {"type": "string", "optional": True, "field": "snapshot"},
             {"type": "string", "optional": False, "field": "db"},
             {"type": "string", "optional": False, "field": "rs"},
             {"type": "string", "optional": False, "field": "collection"},
             {"type": "int32", "optional": False, "field": "ord"}]},
        {"type": "string", "optional": True, "field": "op"},
        {"type": "int64", "optional": True, "field": "ts_ms"}]}
DEBEZIUM_SCHEMA_JSON = json.dumps(DEBEZIUM_SCHEMA, separators=(",", ":"))


def v2_document(shop, created):
    rng = shop.rng
    first, last, email = shop.person()
    country = rng.choice(COUNTRIES)
    lines = shop.basket()
    doc = {"_id": shop.object_id(), "order_no": f"V2-{shop.sequence:08d}", "state": "NEW",
           "buyer": {"email": shop.messy_email(email), "full_name": f"{first} {last}",
                     "country_code": country.lower() if rng.random() < 0.3 else country},
           "order_lines": [{"product_code": sku, "quantity": qty, "unit_price_cents": cents}
                           for sku, qty, cents in lines],
           "total_cents": sum(q * c for _, q, c in lines),
           "currency": CURRENCY.get(country, "EUR"),
           "created_ts": Int64(created) if rng.random() < 0.5 else created,
           "updated_ts": created // 1000,
           "channel": rng.choice(CHANNELS)}
    if rng.random() < 0.7:
        doc["expected_delivery"] = Date((created // 86400000 + rng.randint(2, 9)) * 86400000)
    return doc


class V2Stream:
    """A replica set's order collection seen through the Debezium MongoDB connector: a snapshot
    ('r') first, then inserts, updates (full document or only the change), deletes, tombstones."""

    def __init__(self, shop, kcat):
        self.shop = shop
        self.kcat = kcat
        self.live = {}  # _id hex -> document, a bounded window of orders still changing
        self.order = []
        self.offsets = [0, 0, 0]
        self.pending_tombstone = None

    def source_block(self, ts, snapshot):
        return {"version": "2.5.0.Final", "connector": "mongodb", "name": "shop_v2",
                "ts_ms": ts, "snapshot": "true" if snapshot else "false", "db": "shop",
                "rs": "rs0", "collection": "orders", "ord": 1}

    def event(self, op, doc_id, ts, after=None, before=None, update=None, snapshot=False):
        payload = {"before": before, "after": after, "updateDescription": update,
                   "source": self.source_block(ts, snapshot), "op": op,
                   "ts_ms": ts + self.shop.rng.randrange(5, 400), "transaction": None}
        return doc_id, payload

    def next(self, bad_kind):
        shop = self.shop
        rng = shop.rng
        if self.pending_tombstone is not None:
            doc_id, self.pending_tombstone = self.pending_tombstone, None
            return doc_id, None
        ts = shop.tick()
        roll = rng.random()
        if len(self.live) < 20 or roll < 0.5:
            doc = v2_document(shop, ts)
            if bad_kind == "wrong_type" and doc["order_lines"]:
                doc["order_lines"][0]["quantity"] = "two"
            elif bad_kind == "bad_utf8":
                doc["buyer"]["full_name"] = BAD_UTF8_MARK
            key = doc["_id"].raw.hex()
            self.live[key] = doc
            self.order.append(key)
            if len(self.order) > 5000:
                self.live.pop(self.order.pop(0), None)
            op = "r" if shop.sequence <= 40 else "c"
            return self.event(op, doc["_id"], ts, after=dump_extended(doc, False, spaced=True),
                              snapshot=op == "r")
        key = rng.choice(self.order[-2000:])
        doc = self.live[key]
        if not V2_NEXT[doc["state"]] or roll > 0.95:
            self.live.pop(key)
            self.order.remove(key)
            self.pending_tombstone = doc["_id"]
            before = dump_extended(doc, False, spaced=True) if rng.random() < 0.5 else None
            return self.event("d", doc["_id"], ts, before=before)
        doc["state"] = rng.choice(V2_NEXT[doc["state"]])
        doc["updated_ts"] = ts // 1000
        if rng.random() < 0.5:
            return self.event("u", doc["_id"], ts, after=dump_extended(doc, False, spaced=True))
        changed = {"state": doc["state"], "updated_ts": doc["updated_ts"]}
        removed = None
        if doc["state"] in ("CANCELLED", "REFUNDED") and "expected_delivery" in doc:
            del doc["expected_delivery"]
            removed = ["expected_delivery"]
        update = {"removedFields": removed, "updatedFields": dump_extended(changed, False, True),
                  "truncatedArrays": None}
        return self.event("u", doc["_id"], ts, update=update)

    def line(self, bad_kind):
        doc_id, payload = self.next(bad_kind)
        if payload is None:
            value = None
        elif self.shop.rng.random() < 0.3:
            value = '{"schema":' + DEBEZIUM_SCHEMA_JSON + ',"payload":' + json.dumps(
                payload, ensure_ascii=False, separators=(",", ":")) + "}"
        else:
            value = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        if bad_kind == "bad_after" and payload is not None and payload["after"]:
            payload["after"] = payload["after"][: len(payload["after"]) // 2]
            value = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        if not self.kcat:
            return "null" if value is None else value
        key = json.dumps({"id": json.dumps({"$oid": doc_id.raw.hex()})}, separators=(",", ":"))
        partition = doc_id.raw[-1] % 3
        offset = self.offsets[partition]
        self.offsets[partition] += 1
        return json.dumps({"topic": "shop_v2.shop.orders", "partition": partition,
                           "offset": offset, "tstype": "create", "ts": self.shop.now_ms,
                           "broker": 1, "key": key, "payload": value},
                          ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------------------------------------
# shop_v3: the third service's Kafka events (event-carried state: every event has the order)

V3_NEXT = {"OrderPlaced": ["OrderPaid", "OrderPaid", "OrderCancelled"],
           "OrderPaid": ["OrderShipped", "OrderShipped", "OrderReturned"],
           "OrderShipped": ["OrderDelivered"], "OrderDelivered": ["OrderReturned"],
           "OrderCancelled": [], "OrderReturned": []}


class V3Stream:
    def __init__(self, shop, kcat):
        self.shop = shop
        self.kcat = kcat
        self.live = {}
        self.order = []
        self.offsets = [0, 0, 0, 0]

    def new_order(self, ts):
        shop = self.shop
        rng = shop.rng
        first, last, email = shop.person()
        country = rng.choice(COUNTRIES)
        currency = CURRENCY.get(country, "EUR")
        lines = shop.basket()
        total = sum(q * c for _, q, c in lines)
        amount = cents_text(total)
        if rng.random() < 0.1:  # a tax computed to a tenth of a cent, rounded by the mapping
            amount += str(rng.randrange(10))
        placed_offset = rng.choice(OFFSETS)
        data = {"orderRef": f"ORD3-{shop.sequence:08d}",
                "placedAt": iso_with_offset(ts, placed_offset, millis=rng.random() < 0.5),
                "client": {"mail": shop.messy_email(email), "firstName": first,
                           "lastName": last},
                "lines": [{"articleNo": sku, "count": qty if rng.random() < 0.7 else str(qty),
                           "price": cents_text(cents)} for sku, qty, cents in lines],
                "amount": amount, "currency": currency,
                "shipTo": {"country": country, "city": CITIES[country]},
                "requestedDelivery": (time.strftime("%Y-%m-%d", time.gmtime(
                    ts // 1000 + 86400 * rng.randint(2, 9))) if rng.random() < 0.6 else None)}
        return data, placed_offset

    def line(self, bad_kind):
        shop = self.shop
        rng = shop.rng
        ts = shop.tick()
        ref = None
        if len(self.live) >= 20 and rng.random() >= 0.55:
            ref = rng.choice(self.order[-2000:])
            if not V3_NEXT[self.live[ref][1]]:
                ref = None  # that order is finished: a new one is placed instead
        if ref is None:
            data, offset = self.new_order(ts)
            event_type = "OrderPlaced"
            ref = data["orderRef"]
            self.live[ref] = [data, event_type, offset]
            self.order.append(ref)
            if len(self.order) > 5000:
                self.live.pop(self.order.pop(0))
        else:
            state = self.live[ref]
            data, offset = state[0], state[2]
            event_type = rng.choice(V3_NEXT[state[1]])
            state[1] = event_type
        if bad_kind == "wrong_type" and data["lines"]:
            data = dict(data, lines=[dict(data["lines"][0], count="abc")] + data["lines"][1:])
        elif bad_kind == "bad_utf8":
            data = dict(data, client=dict(data["client"], lastName=BAD_UTF8_MARK))
        event = {"event_type": event_type,
                 "event_id": "%08x-%04x-4%03x-%04x-%012x" % (
                     rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12),
                     0x8000 | rng.getrandbits(14), rng.getrandbits(48)),
                 "occurred_at": iso_with_offset(ts, offset), "schema_version": 3,
                 "data": data}
        payload = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        if bad_kind == "bad_payload":
            payload = payload[: len(payload) // 2]
        if not self.kcat:
            return payload
        key = json.dumps(ref)
        partition = sum(ref.encode()) % 4
        offset_in_partition = self.offsets[partition]
        self.offsets[partition] += 1
        return json.dumps({"topic": "shop_v3.order-events", "partition": partition,
                           "offset": offset_in_partition, "tstype": "create", "ts": ts + 3,
                           "broker": 2, "key": key, "payload": payload},
                          ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------------------------------------
# Driver

FORMATS = {"shop_v1": ("json", "bson"), "shop_v2": ("debezium", "kcat"),
           "shop_v3": ("kcat", "json")}
# Ways a record goes bad, per output format. Line formats can also be cut short; BSON cannot
# without losing the framing of every following document, so its list puts a wrong type where
# JSON truncates, keeping the same documents bad in both.
BAD_KINDS = {("shop_v1", "json"): ["truncated", "bad_utf8", "wrong_type"],
             ("shop_v1", "bson"): ["wrong_type", "bad_utf8", "wrong_type"],
             ("shop_v2", "debezium"): ["truncated", "bad_utf8", "wrong_type", "bad_after"],
             ("shop_v2", "kcat"): ["truncated", "bad_utf8", "wrong_type", "bad_after"],
             ("shop_v3", "kcat"): ["truncated", "bad_utf8", "wrong_type", "bad_payload"],
             ("shop_v3", "json"): ["truncated", "bad_utf8", "wrong_type"]}


def parse_size(text):
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().rstrip("B")
    suffix = text[-1] if text and text[-1] in "KMG" else ""
    try:
        return int(float(text[: len(text) - len(suffix)]) * units[suffix])
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (examples: 1000, 64K, 100M)")


def records(source, fmt, shop, bad_fraction):
    """Yields each record's bytes (a line without its newline, or a BSON document)."""
    rng = shop.side_rng
    kinds = BAD_KINDS[(source, fmt)]
    line_format = fmt != "bson"
    stream = None
    if source == "shop_v2":
        stream = V2Stream(shop, kcat=fmt == "kcat")
    elif source == "shop_v3":
        stream = V3Stream(shop, kcat=fmt == "kcat")
    while True:
        bad_kind = rng.choice(kinds) if bad_fraction and rng.random() < bad_fraction else None
        semantic_bad = bad_kind if bad_kind != "truncated" else None
        if source == "shop_v1":
            doc = v1_document(shop, semantic_bad)
            if fmt == "bson":
                yield bson_document(doc)
                continue
            data = dump_extended(doc, canonical=rng.random() < 0.1).encode()
        else:
            data = stream.line(semantic_bad).encode()
        if bad_kind == "bad_utf8":
            data = data.replace(BAD_UTF8_MARK_BYTES, BAD_UTF8_BYTES)
        elif bad_kind == "truncated" and line_format:
            data = data[: rng.randrange(1, max(2, len(data) - 1))]
        yield data


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", required=True, choices=sorted(FORMATS))
    parser.add_argument("--format", required=True, choices=["json", "bson", "debezium", "kcat"])
    parser.add_argument("--count", type=int, help="number of records")
    parser.add_argument("--bytes", type=parse_size, help="stop once this much is written (100M)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bad-fraction", type=float, default=0.0,
                        help="share of records made invalid, for DLQ tests (e.g. 0.001)")
    parser.add_argument("--out", default="-", help="output file, '-' for standard output")
    args = parser.parse_args(argv)
    if args.format not in FORMATS[args.source]:
        parser.error(f"--source {args.source} comes as --format "
                     f"{' or '.join(FORMATS[args.source])}")
    if args.count is None and args.bytes is None:
        parser.error("give --count, --bytes or both")
    if not 0.0 <= args.bad_fraction <= 1.0:
        parser.error("--bad-fraction must be between 0 and 1")

    limit_count = args.count if args.count is not None else float("inf")
    limit_bytes = args.bytes if args.bytes is not None else float("inf")
    separator = b"" if args.format == "bson" else b"\n"
    out = sys.stdout.buffer if args.out == "-" else open(args.out, "wb")
    written = count = 0
    chunk = []
    shop = Shop(args.seed)
    for data in records(args.source, args.format, shop, args.bad_fraction):
        if count >= limit_count or written >= limit_bytes:
            break
        chunk.append(data)
        chunk.append(separator)
        written += len(data) + len(separator)
        count += 1
        if len(chunk) >= 8192:
            out.write(b"".join(chunk))
            chunk.clear()
    out.write(b"".join(chunk))
    if out is not sys.stdout.buffer:
        out.close()
    print(f"generate: {count} records, {written} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
