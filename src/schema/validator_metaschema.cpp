// canonry's own descriptions of the 2020-12 and draft 7 schema vocabularies, served for the
// metaschema URIs when the caller's resolver cannot load them (no network access is ever made).
// They were written for canonry from the specifications' keyword definitions: one document per
// dialect that checks the shape of every keyword (a schema is an object or a boolean, counts are
// non-negative integers, subschemas are schemas, ...). They are not copies of the official
// metaschemas, which split 2020-12 into vocabulary documents joined with $dynamicRef.
#include "schema/validator_internal.h"

namespace canonry::schema::detail {
namespace {

constexpr std::string_view kDraft2020 = R"json({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://json-schema.org/draft/2020-12/schema",
  "$comment": "canonry's description of the draft 2020-12 keywords",
  "type": ["object", "boolean"],
  "properties": {
    "$id": {"type": "string"},
    "$schema": {"type": "string"},
    "$ref": {"type": "string"},
    "$dynamicRef": {"type": "string"},
    "$anchor": {"$ref": "#/$defs/anchor"},
    "$dynamicAnchor": {"$ref": "#/$defs/anchor"},
    "$vocabulary": {"type": "object", "additionalProperties": {"type": "boolean"}},
    "$comment": {"type": "string"},
    "$defs": {"$ref": "#/$defs/schemas-by-name"},
    "definitions": {"$ref": "#/$defs/schemas-by-name"},

    "allOf": {"$ref": "#/$defs/schema-list"},
    "anyOf": {"$ref": "#/$defs/schema-list"},
    "oneOf": {"$ref": "#/$defs/schema-list"},
    "not": {"$ref": "#"},
    "if": {"$ref": "#"},
    "then": {"$ref": "#"},
    "else": {"$ref": "#"},
    "dependentSchemas": {"$ref": "#/$defs/schemas-by-name"},
    "prefixItems": {"$ref": "#/$defs/schema-list"},
    "items": {"$ref": "#"},
    "contains": {"$ref": "#"},
    "properties": {"$ref": "#/$defs/schemas-by-name"},
    "patternProperties": {"$ref": "#/$defs/schemas-by-name", "propertyNames": {"format": "regex"}},
    "additionalProperties": {"$ref": "#"},
    "propertyNames": {"$ref": "#"},
    "unevaluatedItems": {"$ref": "#"},
    "unevaluatedProperties": {"$ref": "#"},

    "type": {"anyOf": [{"$ref": "#/$defs/type-name"},
                       {"type": "array", "items": {"$ref": "#/$defs/type-name"},
                        "minItems": 1, "uniqueItems": true}]},
    "enum": {"type": "array"},
    "multipleOf": {"type": "number", "exclusiveMinimum": 0},
    "maximum": {"type": "number"},
    "exclusiveMaximum": {"type": "number"},
    "minimum": {"type": "number"},
    "exclusiveMinimum": {"type": "number"},
    "maxLength": {"$ref": "#/$defs/count"},
    "minLength": {"$ref": "#/$defs/count"},
    "pattern": {"type": "string", "format": "regex"},
    "maxItems": {"$ref": "#/$defs/count"},
    "minItems": {"$ref": "#/$defs/count"},
    "uniqueItems": {"type": "boolean"},
    "maxContains": {"$ref": "#/$defs/count"},
    "minContains": {"$ref": "#/$defs/count"},
    "maxProperties": {"$ref": "#/$defs/count"},
    "minProperties": {"$ref": "#/$defs/count"},
    "required": {"$ref": "#/$defs/names"},
    "dependentRequired": {"type": "object", "additionalProperties": {"$ref": "#/$defs/names"}},
    "dependencies": {"type": "object",
                     "additionalProperties": {"anyOf": [{"$ref": "#"}, {"$ref": "#/$defs/names"}]}},

    "format": {"type": "string"},
    "contentEncoding": {"type": "string"},
    "contentMediaType": {"type": "string"},
    "contentSchema": {"$ref": "#"},
    "title": {"type": "string"},
    "description": {"type": "string"},
    "deprecated": {"type": "boolean"},
    "readOnly": {"type": "boolean"},
    "writeOnly": {"type": "boolean"},
    "examples": {"type": "array"}
  },
  "$defs": {
    "anchor": {"type": "string", "pattern": "^[A-Za-z_][-A-Za-z0-9._]*$"},
    "count": {"type": "integer", "minimum": 0},
    "names": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
    "schema-list": {"type": "array", "minItems": 1, "items": {"$ref": "#"}},
    "schemas-by-name": {"type": "object", "additionalProperties": {"$ref": "#"}},
    "type-name": {"enum": ["array", "boolean", "integer", "null", "number", "object", "string"]}
  }
})json";

constexpr std::string_view kDraft7 = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "$id": "http://json-schema.org/draft-07/schema#",
  "$comment": "canonry's description of the draft 7 keywords",
  "type": ["object", "boolean"],
  "properties": {
    "$id": {"type": "string"},
    "$schema": {"type": "string"},
    "$ref": {"type": "string"},
    "$comment": {"type": "string"},
    "definitions": {"$ref": "#/definitions/schemas-by-name"},

    "allOf": {"$ref": "#/definitions/schema-list"},
    "anyOf": {"$ref": "#/definitions/schema-list"},
    "oneOf": {"$ref": "#/definitions/schema-list"},
    "not": {"$ref": "#"},
    "if": {"$ref": "#"},
    "then": {"$ref": "#"},
    "else": {"$ref": "#"},
    "items": {"anyOf": [{"$ref": "#"}, {"$ref": "#/definitions/schema-list"}]},
    "additionalItems": {"$ref": "#"},
    "contains": {"$ref": "#"},
    "properties": {"$ref": "#/definitions/schemas-by-name"},
    "patternProperties": {"$ref": "#/definitions/schemas-by-name",
                          "propertyNames": {"format": "regex"}},
    "additionalProperties": {"$ref": "#"},
    "dependencies": {"type": "object", "additionalProperties":
                     {"anyOf": [{"$ref": "#"}, {"$ref": "#/definitions/names"}]}},
    "propertyNames": {"$ref": "#"},

    "type": {"anyOf": [{"$ref": "#/definitions/type-name"},
                       {"type": "array", "items": {"$ref": "#/definitions/type-name"},
                        "minItems": 1, "uniqueItems": true}]},
    "enum": {"type": "array"},
    "multipleOf": {"type": "number", "exclusiveMinimum": 0},
    "maximum": {"type": "number"},
    "exclusiveMaximum": {"type": "number"},
    "minimum": {"type": "number"},
    "exclusiveMinimum": {"type": "number"},
    "maxLength": {"$ref": "#/definitions/count"},
    "minLength": {"$ref": "#/definitions/count"},
    "pattern": {"type": "string", "format": "regex"},
    "maxItems": {"$ref": "#/definitions/count"},
    "minItems": {"$ref": "#/definitions/count"},
    "uniqueItems": {"type": "boolean"},
    "maxProperties": {"$ref": "#/definitions/count"},
    "minProperties": {"$ref": "#/definitions/count"},
    "required": {"$ref": "#/definitions/names"},

    "format": {"type": "string"},
    "contentEncoding": {"type": "string"},
    "contentMediaType": {"type": "string"},
    "title": {"type": "string"},
    "description": {"type": "string"},
    "readOnly": {"type": "boolean"},
    "writeOnly": {"type": "boolean"},
    "examples": {"type": "array"}
  },
  "definitions": {
    "count": {"type": "integer", "minimum": 0},
    "names": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
    "schema-list": {"type": "array", "minItems": 1, "items": {"$ref": "#"}},
    "schemas-by-name": {"type": "object", "additionalProperties": {"$ref": "#"}},
    "type-name": {"enum": ["array", "boolean", "integer", "null", "number", "object", "string"]}
  }
})json";

}  // namespace

std::string_view builtin_metaschema(std::string_view uri) {
  if (uri == "https://json-schema.org/draft/2020-12/schema") return kDraft2020;
  if (uri == "http://json-schema.org/draft-07/schema") return kDraft7;
  return {};
}

}  // namespace canonry::schema::detail
