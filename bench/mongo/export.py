#!/usr/bin/env python3
"""What mongoexport does, with pymongo (Debian has no MongoDB tools and the Go module proxy does not
serve mongo-tools): the collection in _id order, one relaxed extended-JSON line per document.

usage: export.py MONGODB_URI DATABASE COLLECTION OUTPUT
"""
import sys

from bson import json_util
from pymongo import MongoClient

uri, database, collection, output = sys.argv[1:5]
options = json_util.JSONOptions(json_mode=json_util.JSONMode.RELAXED)
with MongoClient(uri) as client, open(output, "w", encoding="utf-8") as out:
    for document in client[database][collection].find({}, batch_size=1000).sort("_id", 1):
        out.write(json_util.dumps(document, json_options=options))
        out.write("\n")
