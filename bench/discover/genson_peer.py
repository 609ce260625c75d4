"""Peer of `canonry discover` in bench/discover/run.sh: genson (PyPI) merging a JSON Schema from
every line of a JSON lines file. genson keeps no statistics; it is the schema-only baseline."""
import json
import sys

from genson import SchemaBuilder


def main(path):
    builder = SchemaBuilder()
    documents = 0
    with open(path, "rb") as lines:
        for line in lines:
            if line.strip():
                builder.add_object(json.loads(line))
                documents += 1
    schema = builder.to_schema()
    print(json.dumps({"documents": documents, "properties": len(schema.get("properties", {}))}))


if __name__ == "__main__":
    main(sys.argv[1])
