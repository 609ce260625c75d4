#include <gtest/gtest.h>

#include "json/parser.h"
#include "json/writer.h"
#include "mapping/dlq.h"
#include "mapping/plan.h"
#include "mapping/transforms.h"

namespace canonry::mapping {
namespace {

json::Value parse(Arena& arena, std::string_view text) {
  auto v = json::parse(text, arena);
  EXPECT_TRUE(v.is_ok()) << v.status().to_string();
  return v.is_ok() ? *v : json::Value();
}

std::string transform_error(std::string_view spec_text) {
  Arena arena;
  auto made = make_transform(parse(arena, spec_text), "/t");
  return made.is_ok() ? "" : made.status().message();
}

TEST(Transforms, RejectBadArguments) {
  EXPECT_EQ(transform_error(R"("trim")"), "");
  EXPECT_NE(transform_error(R"({"name": "trim", "x": 1})").find("unknown argument `x`"),
            std::string::npos);
  EXPECT_NE(transform_error(R"j({"name": "regex_extract", "pattern": "(a"})j")
                .find("invalid RE2 pattern"),
            std::string::npos);
  EXPECT_NE(transform_error(R"j({"name": "regex_extract", "pattern": "(a)", "group": 2})j")
                .find("`group`"),
            std::string::npos);
  EXPECT_NE(transform_error(R"({"name": "scale", "factor": "x"})").find("numeric `factor`"),
            std::string::npos);
  EXPECT_NE(transform_error(R"({"name": "timestamp", "unit": "h"})").find("`unit`"),
            std::string::npos);
  EXPECT_NE(transform_error(R"({"name": "map"})").find("`values`"), std::string::npos);
  EXPECT_NE(transform_error(R"({"name": "hash", "algo": "crc"})").find("`algo`"),
            std::string::npos);
  EXPECT_NE(transform_error(R"({"name": "concat", "with": ["$.items[*]"]})").find("singular"),
            std::string::npos);
  EXPECT_NE(transform_error(R"(5)").find("a transform is a name"), std::string::npos);
}

TEST(Transforms, HashIsHexSha256OfTheStringForm) {
  Arena arena;
  auto hash = make_transform(parse(arena, R"("hash")"), "/t");
  ASSERT_TRUE(hash.is_ok());
  auto out = (*hash)->apply(json::Value::string("abc"), arena, json::Value());
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(out->as_string(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Plan, MapsToValueAndReportsKeyAndTime) {
  auto spec = load_spec_text(R"({"mappingId": "m", "key": "$.id", "eventTime": "$.at",
    "fieldMappings": [{"src": "$.i", "dst": "$.id", "transform": "string"},
                      {"src": "$.t", "dst": "$.at", "transform": "timestamp"}]})",
                             "spec.json");
  ASSERT_TRUE(spec.is_ok()) << spec.status().message();
  auto plan = Plan::compile(*spec);
  ASSERT_TRUE(plan.is_ok()) << plan.status().message();
  Arena arena;
  json::Value record;
  MapInfo info;
  MapError error;
  ASSERT_TRUE((*plan)->map_to_value(parse(arena, R"({"i": 7, "t": 1709288100000})"), arena, record,
                                    info, error));
  EXPECT_EQ(json::to_json(record), R"({"id":"7","at":"2024-03-01T10:15:00.000Z"})");
  EXPECT_EQ(info.key.as_string(), "7");
  EXPECT_EQ(*info.event_time_ms, 1709288100000);
}

TEST(Plan, ReportsTheConcreteTargetPathOfAFailure) {
  auto spec = load_spec_text(R"({"mappingId": "m",
    "fieldMappings": [{"src": "$.items[*].q", "dst": "$.lines[*].qty", "transform": "int"}]})",
                             "spec.json");
  ASSERT_TRUE(spec.is_ok());
  auto plan = Plan::compile(*spec);
  ASSERT_TRUE(plan.is_ok());
  Arena arena;
  std::string out;
  MapInfo info;
  MapError error;
  EXPECT_FALSE(
      (*plan)->map(parse(arena, R"({"items": [{"q": 1}, {"q": "x"}]})"), arena, out, info, error));
  EXPECT_EQ(error.dst, "$.lines[1].qty");
  EXPECT_EQ(error.status.code(), ErrorCode::kTransform);
  EXPECT_TRUE(out.empty());
}

TEST(Spec, LocatesErrorsByPointerAndLine) {
  auto bad = load_spec_text(
      "{\n \"mappingId\": \"m\",\n \"fieldMappings\": [\n  {\"src\": 5, \"dst\": \"$.a\"}]}",
      "s.json");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().message(),
            "s.json: /fieldMappings/0/src: must be a JSONPath or a non-empty list of them");
  auto syntax = load_spec_text("{\n \"mappingId\": \"m\",\n x}", "s.json");
  ASSERT_FALSE(syntax.is_ok());
  EXPECT_NE(syntax.status().message().find("line 3"), std::string::npos)
      << syntax.status().message();
  auto no_dst =
      load_spec_text(R"({"mappingId": "m", "fieldMappings": [{"src": "$.a"}]})", "s.json");
  EXPECT_EQ(no_dst.status().message(), "s.json: /fieldMappings/0: missing \"dst\"");
  auto both = load_spec_text(
      R"({"mappingId": "m", "fieldMappings": [{"src": "$.a", "expr": "a", "dst": "$.a"}]})",
      "s.json");
  EXPECT_EQ(both.status().message(),
            "s.json: /fieldMappings/0: needs exactly one of \"src\" and \"expr\"");
}

TEST(TargetPath, ParsesNamesQuotesAndWildcards) {
  auto steps = parse_target_path("$.a['b c'][*].d");
  ASSERT_TRUE(steps.is_ok());
  EXPECT_EQ(target_path_text(*steps), "$.a['b c'][*].d");
  EXPECT_FALSE(parse_target_path("a.b").is_ok());
  EXPECT_FALSE(parse_target_path("$[*]").is_ok());
  EXPECT_FALSE(parse_target_path("$.a[0]").is_ok());
  EXPECT_FALSE(parse_target_path("$").is_ok());
}

TEST(DeadLetter, Base64EncodesBinaryRaw) {
  Status status(ErrorCode::kJsonUtf8, "invalid UTF-8 at byte 1");
  formats::Position position;
  position.source = "in.jsonl";
  position.line = 3;
  std::string out;
  append_dead_letter(
      out, {Step::kDecode, &status, {}, "m", &position, std::string_view("a\xff", 2), false});
  EXPECT_NE(out.find("\"raw\":\"Yf8=\",\"rawEncoding\":\"base64\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"code\":\"json_utf8\""), std::string::npos);
  EXPECT_EQ(out.back(), '\n');
}

}  // namespace
}  // namespace canonry::mapping
