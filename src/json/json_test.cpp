#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "json/parser.h"
#include "json/writer.h"

namespace canonry::json {
namespace {

Value parse_ok(Arena& arena, std::string_view text) {
  auto result = parse(text, arena);
  EXPECT_TRUE(result.is_ok()) << result.status().to_string();
  return result.is_ok() ? *result : Value();
}

TEST(Parser, KeepsNumberTextAndTypes) {
  Arena arena;
  Value v =
      parse_ok(arena, R"({"a": 1, "b": 1.50, "c": 12345678901234567890123, "d": -0, "e": 1e3})");
  EXPECT_EQ(to_json(v), R"({"a":1,"b":1.50,"c":12345678901234567890123,"d":-0,"e":1e3})");
  EXPECT_TRUE(v.find("a")->is_integer());
  EXPECT_TRUE(v.find("b")->is_number());
  EXPECT_TRUE(v.find("c")->is_big_integer());
  EXPECT_TRUE(v.find("e")->is_number());
}

TEST(Parser, NumbersBeyondDoubleKeepTheirText) {
  Arena arena;
  std::string huge = "1" + std::string(400, '0');
  Value v = parse_ok(arena, "[" + huge + ", 1e400, -2.5E-400]");
  EXPECT_TRUE(v.items()[0].is_big_integer());
  EXPECT_TRUE(v.items()[1].is_number());
  EXPECT_EQ(to_json(v), "[" + huge + ",1e400,-2.5E-400]");
  EXPECT_EQ(to_json(parse_ok(arena, "18446744073709551616")), "18446744073709551616");
  EXPECT_EQ(to_json(parse_ok(arena, " 1e400 ")), "1e400");
  EXPECT_FALSE(parse("18446744073709551616 7", arena).is_ok());
  EXPECT_FALSE(parse("1e400 x", arena).is_ok());
  EXPECT_EQ(parse("[01]", arena).status().code(), ErrorCode::kJsonSyntax);
  EXPECT_EQ(parse("[1e]", arena).status().code(), ErrorCode::kJsonSyntax);
}

TEST(Parser, ScalarDocuments) {
  Arena arena;
  EXPECT_EQ(to_json(parse_ok(arena, "  \"x\\n\" ")), "\"x\\n\"");
  EXPECT_EQ(to_json(parse_ok(arena, "42")), "42");
  EXPECT_EQ(to_json(parse_ok(arena, "null")), "null");
  EXPECT_EQ(to_json(parse_ok(arena, "true")), "true");
}

TEST(Parser, ExtendedJson) {
  Arena arena;
  Value v = parse_ok(arena, R"({"_id": {"$oid": "65e1a0c2f1d2c3b4a5968778"},
    "at": {"$date": "2024-03-01T10:15:00+01:00"}, "at2": {"$date": {"$numberLong": "1709288100000"}},
    "n": {"$numberLong": "9007199254740993"}, "i": {"$numberInt": "7"}, "d": {"$numberDouble": "1.5"},
    "m": {"$numberDecimal": "19.990"}, "b": {"$binary": {"base64": "AQID", "subType": "00"}},
    "b1": {"$binary": "AQID", "$type": "80"}, "t": {"$timestamp": {"t": 5, "i": 6}},
    "r": {"$regularExpression": {"pattern": "^a", "options": "i"}}, "mk": {"$minKey": 1},
    "op": {"$set": {"x": 1}}})");
  EXPECT_EQ(v.find("_id")->type(), Type::kObjectId);
  EXPECT_EQ(v.find("at")->type(), Type::kDate);
  EXPECT_EQ(v.find("at")->as_int(), 1709284500000);
  EXPECT_EQ(v.find("at2")->as_int(), 1709288100000);
  EXPECT_EQ(v.find("n")->as_int(), 9007199254740993);
  EXPECT_EQ(v.find("i")->type(), Type::kInteger);
  EXPECT_EQ(v.find("d")->type(), Type::kNumber);
  EXPECT_EQ(v.find("m")->type(), Type::kDecimal);
  EXPECT_EQ(v.find("b")->type(), Type::kBinary);
  EXPECT_EQ(v.find("b1")->binary_subtype(), 0x80);
  EXPECT_EQ(v.find("t")->timestamp_increment(), 6u);
  EXPECT_EQ(v.find("r")->regex_options(), "i");
  EXPECT_EQ(v.find("mk")->type(), Type::kMinKey);
  EXPECT_TRUE(v.find("op")->is_object());
  EXPECT_EQ(to_json(*v.find("_id")), R"({"$oid":"65e1a0c2f1d2c3b4a5968778"})");
  EXPECT_EQ(to_json(*v.find("at")), R"({"$date":"2024-03-01T09:15:00.000Z"})");
  EXPECT_EQ(to_json(*v.find("m")), "19.990");
  EXPECT_EQ(to_json(*v.find("b")), R"({"$binary":{"base64":"AQID","subType":"00"}})");
}

TEST(Parser, Errors) {
  Arena arena;
  EXPECT_EQ(parse("{\"a\": 1", arena).status().code(), ErrorCode::kJsonTruncated);
  EXPECT_EQ(parse("{\"a\": \"x", arena).status().code(), ErrorCode::kJsonTruncated);
  EXPECT_EQ(parse("{\"a\": \"\xff\"}", arena).status().code(), ErrorCode::kJsonUtf8);
  EXPECT_EQ(parse("{\"a\": tru}", arena).status().code(), ErrorCode::kJsonSyntax);
  EXPECT_EQ(parse("{} {}", arena).status().code(), ErrorCode::kJsonSyntax);
  EXPECT_EQ(parse("", arena).status().code(), ErrorCode::kJsonTruncated);
  EXPECT_EQ(parse(std::string(500, '[') + std::string(500, ']'), arena).status().code(),
            ErrorCode::kJsonDepth);
  EXPECT_EQ(parse(R"({"$oid": 5})", arena).status().code(), ErrorCode::kExtendedJson);
  ParseOptions small;
  small.max_document_bytes = 4;
  EXPECT_EQ(parse("[1,2,3]", arena, small).status().code(), ErrorCode::kTooLarge);
}

TEST(Parser, TruncatedDocumentsNeverReadPastTheirPadding) {
  // What follows a document in memory must not be taken for more of it, whatever it is.
  for (std::string_view doc : {"[1,", "[", "[[1,2],", "{\"a\":[1,", "{\"a\":"}) {
    for (std::string_view after : {"[", "[[[[", "{\"x\":", "\n[", "\"", "]"}) {
      std::string buffer = std::string(doc) + std::string(after) + std::string(kPadding, '[');
      Arena arena;
      Parser parser;
      auto result = parser.parse_padded(std::string_view(buffer.data(), doc.size()), arena);
      EXPECT_EQ(result.status().code(), ErrorCode::kJsonTruncated) << doc << " + " << after;
    }
  }
}

TEST(Writer, EscapesStrings) {
  std::string out;
  append_quoted(out, std::string_view("a\"b\\c\x01\xc3\xa9", 8));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\u0001\xc3\xa9\"");
}

TEST(Value, EqualityIgnoresMemberOrderAndNumberKind) {
  Arena arena;
  EXPECT_TRUE(
      equal(parse_ok(arena, R"({"a":1,"b":[1,2.0]})"), parse_ok(arena, R"({"b":[1.0,2],"a":1})")));
  EXPECT_FALSE(equal(parse_ok(arena, R"({"a":1})"), parse_ok(arena, R"({"a":"1"})")));
}

TEST(Parser, ReadsOnlyTheListedTopLevelMembers) {
  std::vector<std::string> wanted{"b", "e"};
  ParseOptions options;
  options.top_level_members = &wanted;
  Arena arena;
  auto value =
      parse(R"({"a": 1, "b": {"a": 2, "c": [3]}, "d": [1, {"x": 2}], "e": "é"})", arena, options);
  ASSERT_TRUE(value.is_ok()) << value.status().message();
  EXPECT_EQ(to_json(*value), R"({"b":{"a":2,"c":[3]},"e":"é"})");
}

}  // namespace
}  // namespace canonry::json
