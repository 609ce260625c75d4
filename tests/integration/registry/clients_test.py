#!/usr/bin/env python3
"""Existing clients against `canonry serve`: Confluent's SchemaRegistryClient and its JSON
serializer/deserializer, raw HTTP for the error codes and limits, canonry's own discover/check
commands, and a kill -9 between registrations. Prints "N passed, M failed"; fails on any failure.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"

ORDER_V1 = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Order",
    "type": "object",
    "properties": {
        "order_id": {"type": "string"},
        "total": {"type": "number", "minimum": 0},
    },
    "required": ["order_id"],
    "additionalProperties": False,
}
# Closed content model: an optional property may be added (BACKWARD compatible).
ORDER_V2 = json.loads(json.dumps(ORDER_V1))
ORDER_V2["properties"]["currency"] = {"type": "string", "maxLength": 3}
# Narrowing a type is not.
ORDER_BAD = json.loads(json.dumps(ORDER_V1))
ORDER_BAD["properties"]["total"] = {"type": "integer", "minimum": 0}


class Server:
    def __init__(self, canonry, data, extra=()):
        self.canonry, self.data, self.extra = canonry, data, list(extra)
        self.proc = None
        self.url = None

    def start(self):
        # The server's standard error goes to a file that is polled for the address: reading a
        # pipe of a live process can block for good when the line is not there.
        os.makedirs(self.data, exist_ok=True)
        log_path = self.data + ".log"
        with open(log_path, "w") as log:
            self.proc = subprocess.Popen(
                [self.canonry, "serve", "--listen", "127.0.0.1:0", "--data", self.data] + self.extra,
                stderr=log, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with open(log_path) as log:
                match = re.search(r"listening on (http://\S+)", log.read())
            if match:
                self.url = match.group(1)
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        with open(log_path) as log:
            raise RuntimeError("canonry serve did not start: " + log.read())

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("canonry serve did not stop within 10 s of SIGTERM")


def http(method, url, body=None, headers=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", CONTENT_TYPE)
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("Content-Type"), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), json.loads(error.read() or b"null")


class Checks:
    def __init__(self):
        self.passed = 0
        self.failures = []

    def check(self, name, condition, detail=""):
        if condition:
            self.passed += 1
        else:
            self.failures.append(f"{name}: {detail}")

    def equal(self, name, actual, expected):
        self.check(name, actual == expected, f"got {actual!r}, expected {expected!r}")

    def run(self, name, function):
        try:
            function()
        except Exception:  # a test step that raised is one failure with its traceback
            self.failures.append(f"{name}: raised\n{traceback.format_exc()}")


def confluent_client(c, url):
    client = SchemaRegistryClient({"url": url})
    subject = "orders-value"
    id1 = client.register_schema(subject, Schema(json.dumps(ORDER_V1), "JSON"))
    c.check("register returns an id", isinstance(id1, int) and id1 > 0, id1)
    c.equal("registering again is idempotent", client.register_schema(
        subject, Schema(json.dumps(ORDER_V1), "JSON")), id1)
    fresh = SchemaRegistryClient({"url": url})  # no cache: every call goes to the server
    fetched = fresh.get_schema(id1)
    c.equal("get_schema type", fetched.schema_type, "JSON")
    c.equal("get_schema text", json.loads(fetched.schema_str), ORDER_V1)
    latest = fresh.get_latest_version(subject)
    c.equal("latest version", (latest.version, latest.schema_id), (1, id1))
    c.equal("compatible v2", fresh.test_compatibility(subject, Schema(json.dumps(ORDER_V2), "JSON")), True)
    c.equal("incompatible change", fresh.test_compatibility(
        subject, Schema(json.dumps(ORDER_BAD), "JSON")), False)
    try:
        fresh.register_schema(subject, Schema(json.dumps(ORDER_BAD), "JSON"))
        c.check("incompatible registration refused", False, "registered")
    except SchemaRegistryError as error:
        c.equal("incompatible registration: HTTP 409", error.http_status_code, 409)
        c.equal("incompatible registration: error code 409", error.error_code, 409)
    id2 = fresh.register_schema(subject, Schema(json.dumps(ORDER_V2), "JSON"))
    c.check("v2 gets a new id", id2 != id1, (id1, id2))
    c.equal("versions", fresh.get_versions(subject), [1, 2])
    found = fresh.lookup_schema(subject, Schema(json.dumps(ORDER_V1), "JSON"))
    c.equal("lookup finds version 1", (found.version, found.schema_id), (1, id1))
    c.equal("same schema under another subject keeps its id",
            fresh.register_schema("orders-copy", Schema(json.dumps(ORDER_V1), "JSON")), id1)
    c.equal("subjects", sorted(fresh.get_subjects()), ["orders-copy", "orders-value"])
    c.equal("set subject compatibility", fresh.set_compatibility(subject, "FULL"), {"compatibility": "FULL"})
    c.equal("get subject compatibility", fresh.get_compatibility(subject), "FULL")
    c.equal("global compatibility", fresh.get_compatibility(), "BACKWARD")
    try:
        fresh.get_version(subject, 7)
        c.check("missing version", False, "found")
    except SchemaRegistryError as error:
        c.equal("missing version: 40402", error.error_code, 40402)
    c.equal("soft delete", fresh.delete_subject("orders-copy"), [1])
    c.equal("hard delete", fresh.delete_subject("orders-copy", permanent=True), [1])
    c.equal("subjects after delete", fresh.get_subjects(), ["orders-value"])


def serializers(c, url):
    client = SchemaRegistryClient({"url": url})
    serializer = JSONSerializer(json.dumps(ORDER_V1), client, conf={"auto.register.schemas": True})
    context = SerializationContext("payments", MessageField.VALUE)
    record = {"order_id": "o-1", "total": 19.5}
    payload = serializer(record, context)
    c.equal("wire format magic byte", payload[0], 0)
    schema_id = int.from_bytes(payload[1:5], "big")
    c.check("the serializer registered subject payments-value",
            "payments-value" in client.get_subjects(), client.get_subjects())
    c.equal("serialized id is the registered one",
            client.get_latest_version("payments-value").schema_id, schema_id)
    reader_client = SchemaRegistryClient({"url": url})
    deserializer = JSONDeserializer(None, schema_registry_client=reader_client)
    c.equal("deserializer fetches the schema by id and reads the record",
            deserializer(payload, context), record)
    try:
        serializer({"total": 3}, context)
        c.check("serializer validates against the schema", False, "accepted a record without order_id")
    except Exception as error:  # SerializationError from jsonschema's validation
        c.check("serializer validates against the schema", "order_id" in str(error), str(error))


PAYMENT_V1 = {"type": "record", "name": "Payment", "namespace": "shop",
              "fields": [{"name": "id", "type": "string"}, {"name": "amount", "type": "double"}]}
PAYMENT_V2 = json.loads(json.dumps(PAYMENT_V1))
PAYMENT_V2["fields"].append({"name": "currency", "type": "string", "default": "EUR"})
PAYMENT_BAD = json.loads(json.dumps(PAYMENT_V1))
PAYMENT_BAD["fields"].append({"name": "region", "type": "string"})


def avro(c, url):
    client = SchemaRegistryClient({"url": url})
    subject = "payments-avro-value"
    id1 = client.register_schema(subject, Schema(json.dumps(PAYMENT_V1), "AVRO"))
    c.equal("Avro: schemaType is left out for AVRO", "schemaType" in http("GET", url + "/schemas/ids/%d" % id1)[2], False)
    c.equal("Avro: a field with a default is BACKWARD compatible",
            client.test_compatibility(subject, Schema(json.dumps(PAYMENT_V2), "AVRO")), True)
    status, _, body = http("POST", url + "/compatibility/subjects/%s/versions/latest?verbose=true" % subject,
                           {"schema": json.dumps(PAYMENT_BAD)})
    c.check("Avro: a field without a default is not",
            body.get("is_compatible") is False and "READER_FIELD_MISSING_DEFAULT_VALUE" in body["messages"][0], body)
    status, _, body = http("POST", url + "/subjects/x-avro/versions", {"schema": json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "nope"}]})})
    c.equal("Avro: unknown type is 42201", (status, body["error_code"]), (422, 42201))
    serializer = AvroSerializer(client, json.dumps(PAYMENT_V2), conf={"auto.register.schemas": True})
    context = SerializationContext("payments-avro", MessageField.VALUE)
    record = {"id": "p-1", "amount": 12.5, "currency": "USD"}
    payload = serializer(record, context)
    c.equal("Avro: serializer registered version 2", client.get_latest_version(subject).version, 2)
    deserializer = AvroDeserializer(SchemaRegistryClient({"url": url}))
    c.equal("Avro: deserializer reads it back", deserializer(payload, context), record)


def raw_http(c, url):
    status, content_type, body = http("GET", url + "/subjects/nothing/versions")
    c.equal("40401 status", status, 404)
    c.equal("40401 code", body["error_code"], 40401)
    c.equal("content type", content_type, CONTENT_TYPE)
    status, _, body = http("GET", url + "/subjects/orders-value/versions/99")
    c.equal("40402", (status, body["error_code"]), (404, 40402))
    status, _, body = http("GET", url + "/schemas/ids/99999")
    c.equal("40403", (status, body["error_code"]), (404, 40403))
    status, _, body = http("POST", url + "/subjects/x/versions", {"schemaType": "JSON", "schema": "{nope"})
    c.equal("42201 invalid schema", (status, body["error_code"]), (422, 42201))
    status, _, body = http("POST", url + "/subjects/x/versions",
                           {"schemaType": "JSON", "schema": json.dumps({"type": 5})})
    c.equal("42201 schema that breaks the metaschema", (status, body["error_code"]), (422, 42201))
    status, _, body = http("GET", url + "/subjects/orders-value/versions/zero")
    c.equal("42202 invalid version", (status, body["error_code"]), (422, 42202))
    status, _, body = http("PUT", url + "/config", {"compatibility": "SIDEWAYS"})
    c.equal("42203 invalid compatibility", (status, body["error_code"]), (422, 42203))
    status, _, body = http("PUT", url + "/mode", {"mode": "SIDEWAYS"})
    c.equal("42204 invalid mode", (status, body["error_code"]), (422, 42204))
    status, _, body = http("GET", url + "/schemas/types")
    c.equal("schema types", body, ["AVRO", "JSON"])
    status, _, body = http("POST", url + "/subjects/x/versions", raw=b"{\"schema\":")
    c.equal("malformed JSON body", (status, body["error_code"]), (400, 400))
    status, _, body = http("POST", url + "/subjects/x/versions", raw=b"[" * 100 + b"]" * 100)
    c.equal("JSON deeper than the limit", status, 400)
    status, _, body = http("POST", url + "/subjects/x/versions", raw=b"x" * (2 * 1024 * 1024))
    c.equal("body over the limit", (status, body["error_code"]), (413, 413))
    status, _, body = http("GET", url + "/no/such/route")
    c.equal("unknown route", (status, body["error_code"]), (404, 404))
    status, _, body = http("DELETE", url + "/subjects/orders-value", None)
    c.equal("soft delete a subject", (status, body), (200, [1, 2]))
    status, _, body = http("DELETE", url + "/subjects/orders-value", None)
    c.equal("40404 soft-deleted twice", (status, body["error_code"]), (404, 40404))
    status, _, body = http("GET", url + "/subjects/orders-value/versions?deleted=true")
    c.equal("deleted=true lists soft-deleted versions", body, [1, 2])
    status, _, body = http("POST", url + "/compatibility/subjects/payments-value/versions/latest?verbose=true",
                           {"schemaType": "JSON", "schema": json.dumps(ORDER_BAD)})
    c.check("verbose compatibility messages", status == 200 and body["is_compatible"] is False and
            any("TYPE_NARROWED" in m for m in body["messages"]), body)
    # normalize: member order does not make a new schema.
    reordered = json.dumps(dict(reversed(list(ORDER_V1.items()))))
    _, _, first = http("POST", url + "/subjects/norm/versions?normalize=true",
                       {"schemaType": "JSON", "schema": json.dumps(ORDER_V1)})
    _, _, second = http("POST", url + "/subjects/norm/versions?normalize=true",
                        {"schemaType": "JSON", "schema": reordered})
    c.equal("normalize=true gives reordered schemas one id", first["id"], second["id"])
    # References: a schema that $refs another subject's version by name.
    address = {"type": "object", "properties": {"zip": {"type": "string"}}}
    http("POST", url + "/subjects/address/versions", {"schemaType": "JSON", "schema": json.dumps(address)})
    customer = {"type": "object", "properties": {"home": {"$ref": "address.json"}}}
    status, _, body = http("POST", url + "/subjects/customer/versions", {
        "schemaType": "JSON", "schema": json.dumps(customer),
        "references": [{"name": "address.json", "subject": "address", "version": 1}]})
    c.equal("schema with a reference registers", status, 200)
    status, _, fetched = http("GET", url + "/schemas/ids/%d" % body["id"])
    c.equal("references come back", fetched.get("references"),
            [{"name": "address.json", "subject": "address", "version": 1}])
    status, _, body = http("GET", url + "/subjects/address/versions/1/referencedby")
    c.check("referencedby", status == 200 and len(body) == 1, body)
    status, _, body = http("DELETE", url + "/subjects/address")
    c.equal("42206 a referenced schema cannot be deleted", (status, body["error_code"]), (422, 42206))
    status, _, body = http("POST", url + "/subjects/customer2/versions", {
        "schemaType": "JSON", "schema": json.dumps(customer),
        "references": [{"name": "address.json", "subject": "address", "version": 9}]})
    c.equal("a reference to a missing version is refused", (status, body["error_code"]), (422, 42201))
    # Modes.
    c.equal("READONLY", http("PUT", url + "/mode/frozen", {"mode": "READONLY"})[2], {"mode": "READONLY"})
    status, _, body = http("POST", url + "/subjects/frozen/versions", {"schemaType": "JSON", "schema": "{}"})
    c.equal("42205 write in read-only mode", (status, body["error_code"]), (422, 42205))


def token(c, canonry, work):
    token_file = os.path.join(work, "token")
    with open(token_file, "w") as f:
        f.write("s3cret\n")
    server = Server(canonry, os.path.join(work, "token-data"), ["--token-file", token_file]).start()
    try:
        body = {"schemaType": "JSON", "schema": "{}"}
        status, _, reply = http("POST", server.url + "/subjects/t/versions", body)
        c.equal("write without the token", (status, reply["error_code"]), (401, 40101))
        status, _, reply = http("POST", server.url + "/subjects/t/versions", body,
                                {"Authorization": "Bearer s3cret"})
        c.equal("write with the token", status, 200)
        c.equal("reads need no token", http("GET", server.url + "/subjects")[0], 200)
        c.equal("lookups need no token", http("POST", server.url + "/subjects/t", body)[0], 200)
        client = SchemaRegistryClient({"url": server.url, "bearer.auth.credentials.source": "STATIC_TOKEN",
                                       "bearer.auth.token": "s3cret",
                                       "bearer.auth.logical.cluster": "lsrc-1",
                                       "bearer.auth.identity.pool.id": "pool-1"})
        c.check("Confluent client with a bearer token registers",
                client.register_schema("t2", Schema("{}", "JSON")) > 0)
    finally:
        server.stop()


def crash(c, canonry, work):
    data = os.path.join(work, "crash-data")
    server = Server(canonry, data).start()
    ids = []
    for i in range(20):
        schema = {"type": "object", "properties": {f"f{j}": {"type": "string"} for j in range(i + 1)},
                  "additionalProperties": False}
        _, _, body = http("POST", server.url + "/subjects/grow/versions",
                          {"schemaType": "JSON", "schema": json.dumps(schema)})
        ids.append(body["id"])
    server.kill9()
    server = Server(canonry, data).start()
    try:
        _, _, versions = http("GET", server.url + "/subjects/grow/versions")
        c.equal("every answered registration survives kill -9", versions, list(range(1, 21)))
        _, _, latest = http("GET", server.url + "/subjects/grow/versions/latest")
        c.equal("ids are stable across restarts", latest["id"], ids[-1])
        _, _, body = http("POST", server.url + "/subjects/other/versions",
                          {"schemaType": "JSON", "schema": json.dumps({"type": "string"})})
        c.equal("ids go on after a restart", body["id"], max(ids) + 1)
    finally:
        server.stop()


def commands(c, canonry, source_dir, url, work):
    data = os.path.join(source_dir, "examples", "orders", "data", "shop_v1.jsonl")
    result = subprocess.run([canonry, "discover", "--register", url, data],
                            capture_output=True, text=True)
    c.equal("discover --register exits 0", result.returncode, 0)
    _, _, latest = http("GET", url + "/subjects/raw.shop_v1.inferred/versions/latest")
    c.equal("discover registered raw.<source>.inferred", json.loads(latest["schema"]),
            json.loads(result.stdout))
    spec_path = os.path.join(source_dir, "examples", "orders", "mappings", "shop_v1.json")
    with open(spec_path) as f:
        subject = json.load(f)["target"]["subject"]
    canonical = os.path.join(source_dir, "examples", "orders", "schema", "order.schema.json")
    with open(canonical) as f:
        http("POST", url + "/subjects/%s/versions" % subject, {"schemaType": "JSON", "schema": f.read()})
    result = subprocess.run([canonry, "check", "--spec", spec_path, "--registry", url],
                            capture_output=True, text=True)
    c.check("check --registry fetches the target schema and passes",
            result.returncode == 0 and subject in result.stderr, result.stderr)
    # A target schema the mapping cannot satisfy makes the check fail.
    strict = {"type": "object", "properties": {"nothing_maps_here": {"type": "string"}},
              "required": ["nothing_maps_here"]}
    http("PUT", url + "/config/%s" % subject, {"compatibility": "NONE"})
    http("POST", url + "/subjects/%s/versions" % subject, {"schemaType": "JSON", "schema": json.dumps(strict)})
    result = subprocess.run([canonry, "check", "--spec", spec_path, "--registry", url],
                            capture_output=True, text=True)
    c.check("check --registry fails against an unsatisfiable target", result.returncode == 1, result.stderr)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--canonry", required=True)
    parser.add_argument("--source-dir", required=True)
    args = parser.parse_args()
    # A hang anywhere is a failure, not a test that runs until ctest's own timeout.
    signal.signal(signal.SIGALRM, lambda *_: sys.exit("clients_test: no result after 600 s"))
    signal.alarm(600)
    work = tempfile.mkdtemp(prefix="canonry-registry-")
    c = Checks()
    server = Server(args.canonry, os.path.join(work, "data")).start()
    try:
        c.run("confluent client", lambda: confluent_client(c, server.url))
        c.run("serializers", lambda: serializers(c, server.url))
        c.run("raw http", lambda: raw_http(c, server.url))
        c.run("avro", lambda: avro(c, server.url))
        c.run("commands", lambda: commands(c, args.canonry, args.source_dir, server.url, work))
    finally:
        server.stop()
    c.run("token", lambda: token(c, args.canonry, work))
    c.run("crash", lambda: crash(c, args.canonry, work))
    shutil.rmtree(work, ignore_errors=True)
    for failure in c.failures:
        print("FAIL " + failure)
    print(f"{c.passed} passed, {len(c.failures)} failed")
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
