#!/usr/bin/env python3
"""examples/orders/mappings/shop_v1.json written by hand in Python: the benchmark's Python peer.

  shop_v1.py INPUT OUTPUT

Reads mongoexport extended JSON lines, writes one canonical order per line. Standard library
only; amounts go through decimal.Decimal from their text, never through float, as canonry's
`decimal` does. It is what a careful engineer would write for this one mapping: no framework, no
generic path engine, extended JSON wrappers unwrapped only where the mapping reads them.
"""
import calendar
import json
import sys
import time
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

STATUS = {"P": "pending", "A": "paid", "S": "shipped", "D": "delivered", "X": "cancelled",
          "R": "returned"}
REGION = {"DE": "EU", "FR": "EU", "IT": "EU", "ES": "EU", "NL": "EU", "PL": "EU", "SE": "EU",
          "GB": "EU", "US": "NA", "CA": "NA", "MX": "NA", "BR": "LATAM", "JP": "APAC",
          "AU": "APAC", "SG": "APAC"}
TRUE_WORDS = {"true", "1", "yes"}
FALSE_WORDS = {"false", "0", "no"}
NUMBER_WRAPPERS = ("$numberDecimal", "$numberInt", "$numberLong", "$numberDouble")


class MappingError(ValueError):
    pass


def wrapped_number(obj):
    for name in NUMBER_WRAPPERS:
        if name in obj:
            return obj[name]
    raise MappingError(f"not a number: {obj!r}")


def to_string(v):
    if v is None or type(v) is str:
        return v
    if type(v) is bool:
        return "true" if v else "false"
    if type(v) is dict:
        if "$oid" in v:
            return v["$oid"]
        if "$date" in v:
            return to_timestamp(v)
        return wrapped_number(v)
    return str(v)


def to_int(v):
    if v is None or type(v) is int:
        return v
    if type(v) is dict:
        v = wrapped_number(v)
    if type(v) is bool:
        raise MappingError(f"not an integer: {v!r}")
    try:
        number = Decimal(v)
    except (InvalidOperation, TypeError):
        raise MappingError(f"not an integer: {v!r}")
    if not number.is_finite() or number != number.to_integral_value():
        raise MappingError(f"not an integer: {v!r}")
    return int(number)


def to_decimal(v):
    if v is None or type(v) is Decimal:
        return v
    if type(v) is int:
        return Decimal(v)
    if type(v) is dict:
        v = wrapped_number(v)
    if type(v) is not str:
        raise MappingError(f"not a decimal: {v!r}")
    try:
        number = Decimal(v)
    except InvalidOperation:
        raise MappingError(f"not a decimal: {v!r}")
    if not number.is_finite():
        raise MappingError(f"not a finite decimal: {v!r}")
    return number


def iso_to_millis(text):
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise MappingError(f"not a date-time: {text!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return calendar.timegm(parsed.utctimetuple()) * 1000 + parsed.microsecond // 1000


def to_timestamp(v):
    if v is None:
        return None
    if type(v) is dict:
        if "$date" in v:
            v = v["$date"]
            if type(v) is dict:
                v = int(v["$numberLong"])
        else:
            v = to_int(v)
    if type(v) is str:
        millis = iso_to_millis(v)
    elif type(v) is int:
        millis = v
    else:
        raise MappingError(f"not a timestamp: {v!r}")
    seconds, fraction = divmod(millis, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".%03dZ" % fraction


def to_bool(v):
    if v is None or type(v) is bool:
        return v
    if type(v) is dict:
        v = to_int(v)
    if type(v) is int and v in (0, 1):
        return v == 1
    if type(v) is str:
        word = v.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise MappingError(f"not a boolean: {v!r}")


def map_order(d):
    out = {}
    order_id = d.get("orderId")
    if order_id is None:
        order_id = d.get("_id")
    if order_id is not None:
        out["order_id"] = to_string(order_id)
    if "status" in d:
        status = d["status"]
        out["status"] = None if status is None else STATUS.get(status.strip().upper(), "unknown")
    customer = d.get("customer")
    if type(customer) is dict:
        c = {}
        if "email" in customer:
            email = customer["email"]
            c["email"] = None if email is None else email.strip().lower()
        if "name" in customer:
            name = customer["name"]
            c["name"] = None if name is None else name.strip()
        if c:
            out["customer"] = c
    items = d.get("items")
    if type(items) is list:
        lines = []
        for item in items:
            line = {}
            if "sku" in item:
                sku = item["sku"]
                line["sku"] = None if sku is None else sku.strip().upper()
            if "qty" in item:
                line["quantity"] = to_int(item["qty"])
            if "price" in item:
                line["unit_price"] = to_decimal(item["price"])
            lines.append(line)
        out["line_items"] = lines
    total = d.get("total")
    if total is None:
        total = d.get("amount")
    if total is not None:
        out["total"] = to_decimal(total)
    if "currency" in d:
        currency = d["currency"]
        out["currency"] = None if currency is None else currency.strip().upper()
    if "createdAt" in d:
        out["created_at"] = to_timestamp(d["createdAt"])
    shipping = d.get("shipping")
    if type(shipping) is dict and "country" in shipping:
        country = shipping["country"]
        out["region"] = None if country is None else REGION.get(country.strip().upper(), "OTHER")
    if "giftWrap" in d:
        out["gift_wrap"] = to_bool(d["giftWrap"])
    if "channel" in d:
        channel = d["channel"]
        out["channel"] = None if channel is None else channel.strip().lower()
    out["source"] = "shop_v1"
    if "currency" not in out:
        out["currency"] = "USD"
    return out


def encode_slow(v, parts):
    """Compact JSON with decimals written by their digits (json.dumps has no such mode)."""
    kind = type(v)
    if kind is str:
        parts.append(json.dumps(v, ensure_ascii=False))
    elif kind is dict:
        parts.append("{")
        first = True
        for key, value in v.items():
            if not first:
                parts.append(",")
            first = False
            parts.append(f'"{key}":')
            encode_slow(value, parts)
        parts.append("}")
    elif kind is list:
        parts.append("[")
        for i, value in enumerate(v):
            if i:
                parts.append(",")
            encode_slow(value, parts)
        parts.append("]")
    elif kind is bool:
        parts.append("true" if v else "false")
    elif v is None:
        parts.append("null")
    else:  # int, Decimal
        parts.append(str(v))


# The fast way: json's C encoder writes each Decimal as a string fenced by a private-use
# character, and the fences and quotes are then removed. Only correct while no input string holds
# that character, so lines that hold it, raw or as a \\u escape, take the slow way.
FENCE = "\ue000"
FENCE_BYTES = FENCE.encode()
_fenced = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"),
                           default=lambda d: FENCE + str(d) + FENCE).encode


def encode(order, raw_line):
    if FENCE_BYTES in raw_line or b"\\u" in raw_line:
        parts = []
        encode_slow(order, parts)
        return "".join(parts)
    text = _fenced(order)
    return text.replace('"' + FENCE, "").replace(FENCE + '"', "") if FENCE in text else text


def main():
    if len(sys.argv) != 3:
        print("usage: shop_v1.py INPUT OUTPUT", file=sys.stderr)
        return 2
    failed = 0
    with open(sys.argv[1], "rb") as source, open(sys.argv[2], "w", encoding="utf-8") as sink:
        batch = []
        for number, line in enumerate(source, 1):
            try:
                text = encode(map_order(json.loads(line, parse_float=Decimal)), line)
            except (ValueError, KeyError, AttributeError, TypeError) as error:
                failed += 1
                print(f"line {number}: {error}", file=sys.stderr)
                continue
            batch.append(text)
            batch.append("\n")
            if len(batch) >= 8192:
                sink.write("".join(batch))
                batch.clear()
        sink.write("".join(batch))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
