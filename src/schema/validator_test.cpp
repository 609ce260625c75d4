#include <gtest/gtest.h>

#include "json/parser.h"
#include "schema/validator.h"
#include "schema/validator_internal.h"

namespace canonry::schema {
namespace {

class ValidatorTest : public ::testing::Test {
 protected:
  json::Value parse(std::string_view text) {
    auto result = json::parse(text, arena_);
    EXPECT_TRUE(result.is_ok()) << result.status().to_string() << " in " << text;
    return result.is_ok() ? *result : json::Value();
  }
  Validator compile(std::string_view schema, ValidatorOptions options = {}) {
    json::ParseOptions plain;
    plain.extended_json = false;
    auto value = json::parse(schema, arena_, plain);
    EXPECT_TRUE(value.is_ok());
    auto validator = Validator::compile(*value, std::move(options));
    EXPECT_TRUE(validator.is_ok()) << validator.status().to_string();
    return std::move(validator).value();
  }
  Status compile_error(std::string_view schema, ValidatorOptions options = {}) {
    json::ParseOptions plain;
    plain.extended_json = false;
    auto value = json::parse(schema, arena_, plain);
    EXPECT_TRUE(value.is_ok());
    auto validator = Validator::compile(*value, std::move(options));
    EXPECT_FALSE(validator.is_ok());
    return validator.is_ok() ? Status() : validator.status();
  }
  Arena arena_;
};

TEST_F(ValidatorTest, ReportsInstancePathsSchemaPathsAndMessages) {
  Validator v = compile(R"({
    "type": "object", "required": ["order_id"],
    "properties": {
      "order_id": {"type": "string"},
      "line_items": {"type": "array", "items": {"$ref": "#/$defs/item"}}},
    "$defs": {"item": {"properties": {"quantity": {"type": "integer", "minimum": 1}}}}})");
  json::Value bad = parse(R"({"line_items": [{"quantity": 2}, {"quantity": 0}]})");
  EXPECT_FALSE(v.is_valid(bad));
  auto errors = v.validate(bad);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].instance_path, "/line_items/1/quantity");
  EXPECT_EQ(errors[0].schema_path, "/$defs/item/properties/quantity/minimum");
  EXPECT_EQ(errors[0].message, "must be >= 1");
  EXPECT_EQ(errors[1].instance_path, "");
  EXPECT_EQ(errors[1].schema_path, "/required");
  EXPECT_EQ(errors[1].message, "missing required property \"order_id\"");
  json::Value good = parse(R"({"order_id": "7", "line_items": [{"quantity": 2}]})");
  EXPECT_TRUE(v.is_valid(good));
  EXPECT_TRUE(v.validate(good).empty());
}

TEST_F(ValidatorTest, EscapesPointerTokensAndStopsAtMaxErrors) {
  ValidatorOptions options;
  options.max_errors = 2;
  Validator v = compile(R"({"additionalProperties": {"type": "string"}})", options);
  auto errors = v.validate(parse(R"({"a/b": 1, "c~d": 2, "e": 3})"));
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].instance_path, "/a~1b");
  EXPECT_EQ(errors[1].instance_path, "/c~0d");
  EXPECT_EQ(errors[0].schema_path, "/additionalProperties/type");
}

TEST_F(ValidatorTest, AnyValueCanBeARecord) {
  Validator v = compile(R"({"type": "array", "prefixItems": [{"type": "integer"}],
                            "items": false})");
  EXPECT_TRUE(v.is_valid(parse("[1]")));
  EXPECT_FALSE(v.is_valid(parse("[1, 2]")));
  EXPECT_FALSE(v.is_valid(parse("[\"x\"]")));
  EXPECT_FALSE(v.is_valid(parse("42")));
  EXPECT_EQ(v.validate(parse("[1, 2]"))[0].instance_path, "/1");
}

TEST_F(ValidatorTest, MongoTypesValidateAsTheirJsonCounterparts) {
  Validator v = compile(R"({"properties": {
      "id": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
      "at": {"type": "string", "format": "date-time"},
      "price": {"type": "number", "minimum": 0, "multipleOf": 0.01},
      "count": {"type": "integer"},
      "blob": {"type": ["string", "object"]}}})",
                        ValidatorOptions{.assert_formats = true});
  EXPECT_TRUE(v.is_valid(parse(R"({"id": {"$oid": "65e1a0c2f1d2c3b4a5968778"},
      "at": {"$date": "2024-03-01T10:15:00Z"}, "price": {"$numberDecimal": "19.99"},
      "count": {"$numberDecimal": "3"}})")));
  EXPECT_FALSE(v.is_valid(parse(R"({"price": {"$numberDecimal": "19.999"}})")));
  EXPECT_FALSE(v.is_valid(parse(R"({"price": {"$numberDecimal": "-1"}})")));
  EXPECT_FALSE(v.is_valid(parse(R"({"count": {"$numberDecimal": "3.5"}})")));
  EXPECT_FALSE(v.is_valid(parse(R"({"blob": {"$binary": {"base64": "AQID", "subType": "00"}}})")));
}

TEST_F(ValidatorTest, NumbersCompareByValue) {
  Validator v = compile(R"({"enum": [1, "a"], "uniqueItems": true})");
  EXPECT_TRUE(v.is_valid(parse("1.0")));
  EXPECT_FALSE(v.is_valid(parse("2")));
  Validator unique = compile(R"({"uniqueItems": true})");
  EXPECT_FALSE(unique.is_valid(parse("[1, 1.0]")));
  EXPECT_FALSE(unique.is_valid(parse(R"([{"a": [1], "b": 2}, {"b": 2.0, "a": [1.0]}])")));
  std::string many = "[";
  for (int i = 0; i < 100; ++i) many += std::to_string(i) + ",";
  EXPECT_TRUE(unique.is_valid(parse(many + "100]")));
  EXPECT_FALSE(unique.is_valid(parse(many + "7.0]")));
  Validator big = compile(R"({"maximum": 18446744073709551615})");
  EXPECT_TRUE(big.is_valid(parse("18446744073709551614")));
  EXPECT_FALSE(big.is_valid(parse("18446744073709551616")));
  Validator integer = compile(R"({"type": "integer"})");
  EXPECT_TRUE(integer.is_valid(parse("2.0")));
  EXPECT_FALSE(integer.is_valid(parse("2.5")));
}

TEST_F(ValidatorTest, StringLengthCountsCodePoints) {
  Validator v = compile(R"({"maxLength": 2})");
  EXPECT_TRUE(v.is_valid(parse("\"\xF0\x9F\x92\xA9\xC3\xA9\"")));
  EXPECT_FALSE(v.is_valid(parse("\"abc\"")));
}

TEST_F(ValidatorTest, Draft7RefOverridesSiblingsAnd2020DoesNot) {
  const char* schema = R"({"definitions": {"s": {"type": "string"}},
                           "properties": {"a": {"$ref": "#/definitions/s", "maxLength": 1}}})";
  ValidatorOptions draft7;
  draft7.default_draft = Draft::k7;
  EXPECT_TRUE(compile(schema, draft7).is_valid(parse(R"({"a": "long"})")));
  std::string with_schema =
      std::string(R"({"$schema": "http://json-schema.org/draft-07/schema#",)") + (schema + 1);
  EXPECT_TRUE(compile(with_schema).is_valid(parse(R"({"a": "long"})")));
  Validator v2020 = compile(R"({"$defs": {"s": {"type": "string"}},
                           "properties": {"a": {"$ref": "#/$defs/s", "maxLength": 1}}})");
  EXPECT_FALSE(v2020.is_valid(parse(R"({"a": "long"})")));
}

TEST_F(ValidatorTest, UnevaluatedPropertiesSeeThroughApplicators) {
  Validator v = compile(R"({"allOf": [{"properties": {"a": true}}],
      "anyOf": [{"properties": {"b": true}}, {"properties": {"c": true}}],
      "unevaluatedProperties": false})");
  EXPECT_TRUE(v.is_valid(parse(R"({"a": 1, "b": 2, "c": 3})")));
  EXPECT_FALSE(v.is_valid(parse(R"({"a": 1, "d": 4})")));
  auto errors = v.validate(parse(R"({"a": 1, "d": 4})"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].instance_path, "/d");
}

TEST_F(ValidatorTest, RemoteReferencesGoThroughTheResolver) {
  std::vector<std::string> asked;
  ValidatorOptions options;
  options.base_uri = "file:///schemas/order.json";
  options.resolve_remote = [&](std::string_view uri) -> Result<std::string> {
    asked.emplace_back(uri);
    if (uri == "file:///schemas/common/money.json")
      return std::string(R"({"$defs": {"amount":
        {"type": "number", "minimum": 0}}})");
    return Status(ErrorCode::kIo, "no such file");
  };
  Validator v = compile(R"({"properties": {"total": {"$ref": "common/money.json#/$defs/amount"},
                                           "tax": {"$ref": "common/money.json#/$defs/amount"}}})",
                        options);
  EXPECT_EQ(asked, std::vector<std::string>{"file:///schemas/common/money.json"});
  EXPECT_FALSE(v.is_valid(parse(R"({"total": -1})")));
  auto errors = v.validate(parse(R"({"total": -1})"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].schema_path, "file:///schemas/common/money.json#/$defs/amount/minimum");

  Status missing = compile_error(R"({"$ref": "other.json"})", options);
  EXPECT_EQ(missing.code(), ErrorCode::kSchema);
  EXPECT_EQ(missing.path(), "/$ref");
  EXPECT_NE(missing.message().find("file:///schemas/other.json"), std::string::npos);
}

TEST_F(ValidatorTest, MetaschemasAreBuiltIn) {
  Validator v2020 = compile(R"({"$ref": "https://json-schema.org/draft/2020-12/schema"})");
  EXPECT_TRUE(v2020.is_valid(parse(R"({"type": "object", "properties": {"a": {"minLength": 1}},
      "$defs": {"b": {"type": ["string", "null"]}}, "unevaluatedProperties": false})")));
  EXPECT_TRUE(v2020.is_valid(parse("true")));
  EXPECT_FALSE(v2020.is_valid(parse(R"({"properties": {"a": {"minLength": -1}}})")));
  EXPECT_FALSE(v2020.is_valid(parse(R"({"type": "strng"})")));
  EXPECT_FALSE(v2020.is_valid(parse(R"({"allOf": []})")));
  EXPECT_FALSE(v2020.is_valid(parse("1")));
  Validator v7 = compile(R"({"$ref": "http://json-schema.org/draft-07/schema#"})");
  EXPECT_TRUE(v7.is_valid(parse(R"({"items": [{"type": "integer"}], "additionalItems": false})")));
  EXPECT_FALSE(v7.is_valid(parse(R"({"definitions": {"a": {"required": "x"}}})")));
}

TEST_F(ValidatorTest, SchemaErrorsSayWhere) {
  EXPECT_EQ(compile_error(R"({"properties": {"a": {"type": "strng"}}})").path(),
            "/properties/a/type");
  EXPECT_EQ(compile_error(R"({"minLength": -1})").path(), "/minLength");
  EXPECT_EQ(compile_error(R"j({"pattern": "(?=a)"})j").path(), "/pattern");
  EXPECT_EQ(compile_error(R"({"allOf": [{"$ref": "#/$defs/none"}]})").path(), "/allOf/0/$ref");
  EXPECT_EQ(compile_error(R"({"items": 5})").path(), "/items");
  EXPECT_EQ(compile_error(R"({"multipleOf": 0})").code(), ErrorCode::kSchema);
}

TEST_F(ValidatorTest, RecursiveSchemasTerminate) {
  Validator tree = compile(R"({"type": "object", "properties": {
      "children": {"type": "array", "items": {"$ref": "#"}}}})");
  EXPECT_TRUE(tree.is_valid(parse(R"({"children": [{"children": [{}]}]})")));
  EXPECT_FALSE(tree.is_valid(parse(R"({"children": [{"children": [1]}]})")));
  Validator loop = compile(R"({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
                               "$ref": "#/$defs/a"})");
  EXPECT_FALSE(loop.is_valid(parse("1")));
  EXPECT_FALSE(loop.validate(parse("1")).empty());
  // Each level doubles the work unless the cycle is cut where it starts.
  Validator branching = compile(R"({"$defs": {"a": {"anyOf": [{"$ref": "#/$defs/a"},
      {"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"})");
  EXPECT_FALSE(branching.is_valid(parse("1")));
  auto errors = branching.validate(parse("1"));
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].schema_path, "/$defs/a/anyOf");
}

TEST_F(ValidatorTest, FormatsAreAnnotationsUnlessAsserted) {
  const char* schema = R"({"format": "email"})";
  EXPECT_TRUE(compile(schema).is_valid(parse("\"not an email\"")));
  Validator asserted = compile(schema, ValidatorOptions{.assert_formats = true});
  EXPECT_FALSE(asserted.is_valid(parse("\"not an email\"")));
  EXPECT_TRUE(asserted.is_valid(parse("\"a.b@example.com\"")));
  EXPECT_TRUE(asserted.is_valid(parse("12")));
}

TEST_F(ValidatorTest, CopiesTheSchemaItNeeds) {
  Validator v = [] {
    Arena scratch;
    auto schema = json::parse(R"({"enum": ["x"], "properties": {"k": {"const": "y"}}})", scratch);
    return std::move(Validator::compile(*schema)).value();
  }();
  EXPECT_TRUE(v.is_valid(parse(R"("x")")));
  EXPECT_FALSE(v.is_valid(parse(R"("z")")));
}

TEST(Formats, Checks) {
  auto check = [](std::string_view format, std::string_view text) {
    auto f = detail::find_format(format);
    EXPECT_NE(f, nullptr) << format;
    return f != nullptr && f(text);
  };
  EXPECT_TRUE(check("date-time", "2024-02-29T23:59:60Z"));
  EXPECT_FALSE(check("date-time", "2023-02-29T10:00:00Z"));
  EXPECT_FALSE(check("date-time", "2024-03-01T10:00:60+01:00"));
  EXPECT_TRUE(check("date-time", "2024-03-01T00:59:60+01:00"));
  EXPECT_FALSE(check("date-time", "2024-03-01 10:00:00Z"));
  EXPECT_TRUE(check("time", "10:15:00.5-05:30"));
  EXPECT_FALSE(check("time", "10:15:00"));
  EXPECT_TRUE(check("duration", "P1Y2M3DT4H5M6S"));
  EXPECT_FALSE(check("duration", "P1Y2D"));
  EXPECT_TRUE(check("ipv6", "::ffff:192.168.0.1"));
  EXPECT_FALSE(check("ipv6", "1::2::3"));
  EXPECT_FALSE(check("ipv4", "192.168.01.1"));
  EXPECT_TRUE(check("uri", "https://user@example.com:8080/a?b#c"));
  EXPECT_FALSE(check("uri", "/relative"));
  EXPECT_TRUE(check("uri-reference", "../a/b?c"));
  EXPECT_TRUE(check("uuid", "2eb8aa08-aa98-11ea-b4aa-73b441d16380"));
  EXPECT_FALSE(check("hostname", "-bad.example"));
  EXPECT_TRUE(check("json-pointer", "/a~1b/0"));
  EXPECT_FALSE(check("relative-json-pointer", "01/a"));
  EXPECT_TRUE(check("uri-template", "http://example.com/{id}{?q,lang*}"));
  EXPECT_FALSE(check("uri-template", "http://example.com/{id"));
  EXPECT_TRUE(check("regex", "^[a-z]+\\d*$"));
  EXPECT_FALSE(check("regex", "(?<=a)b"));
  EXPECT_EQ(detail::find_format("idn-hostname"), nullptr);
}

TEST(Patterns, FollowEcmaScriptSemantics) {
  auto matches = [](std::string_view pattern, std::string_view text) {
    auto re = detail::compile_pattern(pattern);
    EXPECT_TRUE(re.is_ok()) << pattern << ": " << re.status().message();
    return re.is_ok() && (*re)->search(text);
  };
  EXPECT_TRUE(matches("^\\s$", "\xC2\xA0"));  // no-break space is ECMA white space
  EXPECT_FALSE(matches("^.$", "\n"));
  EXPECT_FALSE(matches("^.$", "\xE2\x80\xA8"));  // line separator
  EXPECT_TRUE(matches("^\\u00e9$", "\xC3\xA9"));
  EXPECT_TRUE(matches("^\\uD83D\\uDCA9$", "\xF0\x9F\x92\xA9"));
  EXPECT_TRUE(matches("^\\p{Letter}+$", "\xC3\xA9t\xC3\xA9"));
  EXPECT_TRUE(matches("^[^]$", "\n"));
  EXPECT_TRUE(matches("^\\cJ$", "\n"));
  EXPECT_TRUE(matches("(?<year>\\d{4})", "in 2024"));
  // The anchored single-class shapes that skip RE2 must match exactly as RE2 would.
  EXPECT_TRUE(matches("^[A-Z]{3}$", "EUR"));
  EXPECT_FALSE(matches("^[A-Z]{3}$", "EURO"));
  EXPECT_FALSE(matches("^[A-Z]{3}$", "E\xC3\x89R"));
  EXPECT_TRUE(matches("^[A-Z0-9-]+$", "SKU-1"));
  EXPECT_FALSE(matches("^[A-Z0-9-]+$", ""));
  EXPECT_FALSE(matches("^[A-Z0-9-]+$", "SKU_1"));
  EXPECT_TRUE(matches("^[a-c]*$", ""));
  EXPECT_TRUE(matches("^[\\d.]{2,3}$", "1.5"));
  EXPECT_FALSE(matches("^[\\d.]{2,3}$", "1.55"));
  EXPECT_TRUE(matches("^[\\w]{2,}$", "a_1"));
  EXPECT_FALSE(matches("^[0-9a-f]{4}$", "00g0"));
  EXPECT_FALSE(detail::compile_pattern("(a)\\1").is_ok());
  EXPECT_FALSE(detail::compile_pattern("a(?!b)").is_ok());
  EXPECT_FALSE(detail::compile_pattern("[a-").is_ok());
}

TEST(Uris, ResolveAsRfc3986Says) {
  using detail::resolve_uri;
  EXPECT_EQ(resolve_uri("http://a/b/c/d;p?q", "../g"), "http://a/b/g");
  EXPECT_EQ(resolve_uri("http://a/b/c/d;p?q", "//g"), "http://g");
  EXPECT_EQ(resolve_uri("http://a/b/c/d;p?q", "#s"), "http://a/b/c/d;p?q#s");
  EXPECT_EQ(resolve_uri("http://a/b/c/d;p?q", "../../../g"), "http://a/g");
  EXPECT_EQ(resolve_uri("urn:uuid:deadbeef-1234-ffff-ffff-4321feebdaed", "#/$defs/x"),
            "urn:uuid:deadbeef-1234-ffff-ffff-4321feebdaed#/$defs/x");
  EXPECT_EQ(resolve_uri("", "#/a"), "#/a");
  EXPECT_EQ(resolve_uri("file:///s/order.json", "common/x.json"), "file:///s/common/x.json");
}

}  // namespace
}  // namespace canonry::schema
