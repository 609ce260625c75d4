#include "jsonpath/jsonpath.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "common/arena.h"
#include "json/parser.h"
#include "json/writer.h"

namespace canonry::jsonpath {
namespace {

class JsonPathTest : public ::testing::Test {
 protected:
  json::Value doc(std::string_view text) {
    auto parsed = json::parse(text, arena_);
    EXPECT_TRUE(parsed.is_ok()) << parsed.status().to_string();
    return parsed.is_ok() ? *parsed : json::Value();
  }

  JsonPath path(std::string_view text) {
    auto parsed = JsonPath::parse(text);
    EXPECT_TRUE(parsed.is_ok()) << text << ": " << parsed.status().to_string();
    return std::move(parsed).value();
  }

  // The nodelist as "path=value" strings.
  std::vector<std::string> run(std::string_view query, const json::Value& root) {
    std::vector<std::string> out;
    for (const auto& [where, node] : path(query).select_with_paths(root)) {
      out.push_back(where + "=" + json::to_json(*node));
    }
    return out;
  }

  std::string error(std::string_view query) {
    auto parsed = JsonPath::parse(query);
    if (parsed.is_ok()) return "parsed";
    EXPECT_EQ(parsed.status().code(), ErrorCode::kPathSyntax);
    return parsed.status().message();
  }

  Arena arena_;
};

using Nodes = std::vector<std::string>;

TEST_F(JsonPathTest, ErrorsNameTheCharacterPosition) {
  EXPECT_EQ(error("$.a]"), "unexpected ']' at position 3");
  EXPECT_EQ(error("$[1"), "unexpected end of query at position 3");
  EXPECT_EQ(error(" $"), "unexpected ' ' at position 0");
  EXPECT_EQ(error("$.a "), "unexpected ' ' at position 3");
  // Positions count characters, not bytes: 'é' is two bytes.
  EXPECT_EQ(error("$['é']x"), "unexpected 'x' at position 6");
  EXPECT_EQ(error("$[01]"), "leading zero in integer at position 2");
  EXPECT_EQ(error("$[9007199254740992]"), "integer out of range at position 2");
  EXPECT_EQ(error("$[?@.a == 'x]"), "unterminated string at position 10");
  EXPECT_EQ(error("$[?foo(@)]"), "unknown function 'foo' at position 3");
  EXPECT_EQ(error("$[?length(@.*) == 1]"), "expected a singular query at position 10");
  EXPECT_EQ(error("$[?length(@)]"), "the result of this function must be compared at position 3");
  EXPECT_EQ(error("$[?@.* == 1]"), "a non-singular query cannot be compared at position 3");
  EXPECT_EQ(error("$[?1]"), "a literal must be compared at position 3");
  EXPECT_EQ(error("$[?count(1) == 1]"), "expected a query at position 9");
  EXPECT_EQ(error("$[?match(@) == 1]"), "match() takes 2 arguments at position 3");
  EXPECT_EQ(error("$['\\uDC00']"), "lone low surrogate at position 3");
  EXPECT_EQ(error("$[\"\\'\"]"), "invalid escape at position 3");
}

TEST_F(JsonPathTest, RejectsHostileNestingWithoutRecursingForever) {
  std::string deep = "$[?" + std::string(1000, '(') + "@" + std::string(1000, ')') + "]";
  EXPECT_EQ(error(deep).find("query nested too deeply"), 0u);
  std::string filters = "$";
  for (int i = 0; i < 200; ++i) filters += "[?@";
  EXPECT_EQ(error(filters).find("query nested too deeply"), 0u);
}

TEST_F(JsonPathTest, BlanksInsideBracketsMakeASegmentNonSingular) {
  EXPECT_EQ(error("$[?@['a'] == 1]"), "parsed");
  EXPECT_EQ(error("$[?@ ['a'] [0] == 1]"), "parsed");
  EXPECT_EQ(error("$[?@[ 'a' ] == 1]"), "a non-singular query cannot be compared at position 3");
  EXPECT_EQ(error("$[?length(@[ 0 ]) == 1]"), "expected a singular query at position 10");
  EXPECT_TRUE(path("$['a'][0]").is_singular());
  EXPECT_FALSE(path("$[ 'a' ]").is_singular());
}

TEST_F(JsonPathTest, DescribesItsShape) {
  JsonPath p = path("$.a[*].b.*[0]..c");
  EXPECT_EQ(p.text(), "$.a[*].b.*[0]..c");
  EXPECT_FALSE(p.is_singular());
  ASSERT_EQ(p.segment_count(), 6u);
  std::vector<bool> wildcard;
  for (size_t i = 0; i < 7; ++i) wildcard.push_back(p.is_wildcard_segment(i));
  EXPECT_EQ(wildcard, (std::vector<bool>{false, true, false, true, false, false, false}));
  EXPECT_FALSE(path("$[*,*]").is_wildcard_segment(0));
  EXPECT_FALSE(path("$..*").is_wildcard_segment(0));
  EXPECT_TRUE(p.is_singular_range(2, 3));
  EXPECT_FALSE(p.is_singular_range(1, 3));
  EXPECT_TRUE(p.is_singular_range(4, 5));
  EXPECT_FALSE(p.is_singular_range(4, 6));
  EXPECT_TRUE(path("$.a['b'][-1]").is_singular());
  EXPECT_FALSE(path("$.a['b','c']").is_singular());
}

TEST_F(JsonPathTest, SingularFastPathFindsNodesWithoutCallbacks) {
  json::Value root = doc(R"({"a": {"b": [10, 20, {"c": true}]}})");
  const json::Value* node = path("$.a.b[-1].c").select_singular(root);
  ASSERT_NE(node, nullptr);
  EXPECT_TRUE(node->is_bool() && node->as_bool());
  EXPECT_EQ(path("$.a.b[1]").select_singular(root)->as_int(), 20);
  EXPECT_EQ(path("$").select_singular(root), &root);
  EXPECT_EQ(path("$.a.b[3]").select_singular(root), nullptr);
  EXPECT_EQ(path("$.a.b[-4]").select_singular(root), nullptr);
  EXPECT_EQ(path("$.a.x").select_singular(root), nullptr);
  EXPECT_EQ(path("$.a.b.c").select_singular(root), nullptr);
  // Not singular: no answer from the fast path, even though a node exists.
  EXPECT_EQ(path("$.a.*").select_singular(root), nullptr);
}

TEST_F(JsonPathTest, EvaluateVisitsNodesByReferenceInOrder) {
  json::Value root = doc(R"({"a": [1, 2, 3], "b": {"c": 4}})");
  std::vector<const json::Value*> seen;
  path("$.a[*]").evaluate(root, [&](const json::Value& node) { seen.push_back(&node); });
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], &root.find("a")->items()[0]);
  EXPECT_EQ(seen[2]->as_int(), 3);

  int calls = 0;
  const auto count = [&calls](const json::Value&) { ++calls; };
  path("$.b.c").evaluate(root, count);
  path("$.b.x").evaluate(root, count);
  EXPECT_EQ(calls, 1);
}

TEST_F(JsonPathTest, EvaluateRangeStartsAnywhere) {
  json::Value root = doc(R"({"limit": 2, "rows": [{"v": [1, 2, 3]}, {"v": [4]}]})");
  JsonPath p = path("$.rows[*].v[?@ > $.limit]");
  std::vector<int64_t> values;
  const json::Value& second_row = root.find("rows")->items()[0];
  p.evaluate_range(2, 4, root, second_row,
                   [&](const json::Value& node) { values.push_back(node.as_int()); });
  EXPECT_EQ(values, (std::vector<int64_t>{3}));
  values.clear();
  p.evaluate_range(0, 2, root, root, [&](const json::Value& node) {
    values.push_back(static_cast<int64_t>(node.size()));
  });
  EXPECT_EQ(values, (std::vector<int64_t>{1, 1}));
  values.clear();
  p.evaluate_range(3, 99, root, root, [&](const json::Value&) { values.push_back(0); });
  EXPECT_TRUE(values.empty());
  const std::function<void(const json::Value&)> collect = [&](const json::Value& node) {
    values.push_back(node.as_int());
  };
  p.evaluate_range(2, 4, root, root.find("rows")->items()[1], collect);
  p.evaluate_range(2, 4, root, second_row, collect);
  EXPECT_EQ(values, (std::vector<int64_t>{4, 3}));
}

TEST_F(JsonPathTest, NormalizedPathsEscapeNames) {
  json::Value root = doc(R"({"it's": 1, "a\\b": 2, "\u000b\n": 3, "é": 4})");
  EXPECT_EQ(run("$.*", root),
            (Nodes{"$['it\\'s']=1", "$['a\\\\b']=2", "$['\\u000b\\n']=3", "$['é']=4"}));
  EXPECT_EQ(run("$..[0]", doc("[[5, [6]]]")), (Nodes{"$[0]=[5,[6]]", "$[0][0]=5", "$[0][1][0]=6"}));
}

TEST_F(JsonPathTest, NumbersCompareByValue) {
  json::Value root = doc(R"([1, 1.0, 2, 1e0, 100000000000000000000, "1", -0, 0])");
  EXPECT_EQ(run("$[?@ == 1]", root), (Nodes{"$[0]=1", "$[1]=1.0", "$[3]=1e0"}));
  EXPECT_EQ(run("$[?@ == 1.0e0]", root), (Nodes{"$[0]=1", "$[1]=1.0", "$[3]=1e0"}));
  EXPECT_EQ(run("$[?@ > 1.5]", root), (Nodes{"$[2]=2", "$[4]=100000000000000000000"}));
  EXPECT_EQ(run("$[?@ == 100000000000000000000]", root), (Nodes{"$[4]=100000000000000000000"}));
  EXPECT_EQ(run("$[?@ == -0]", root), (Nodes{"$[6]=-0", "$[7]=0"}));
}

TEST_F(JsonPathTest, MongoTypesEqualOnlyThemselves) {
  json::Value root = doc(R"({
    "ref": {"$oid": "5f1d7a2b9c8e4a3b2c1d0e0f"},
    "items": [
      {"id": {"$oid": "5f1d7a2b9c8e4a3b2c1d0e0f"}, "at": {"$date": "2024-01-01T00:00:00Z"}},
      {"id": {"$oid": "000000000000000000000000"}, "at": {"$date": "2025-01-01T00:00:00Z"}},
      {"id": "5f1d7a2b9c8e4a3b2c1d0e0f", "price": {"$numberDecimal": "19.99"}}
    ]})");
  ASSERT_EQ(path("$.ref").select_singular(root)->type(), json::Type::kObjectId);
  ASSERT_EQ(path("$.items[0].at").select_singular(root)->type(), json::Type::kDate);
  ASSERT_EQ(path("$.items[2].price").select_singular(root)->type(), json::Type::kDecimal);
  EXPECT_EQ(path("$.items[?@.id == $.ref]").select(root).size(), 1u);
  EXPECT_EQ(path("$.items[?@.id != $.ref]").select(root).size(), 2u);
  // Dates, ObjectIds and decimals are not ordered, and are neither numbers nor strings.
  EXPECT_EQ(path("$.items[?@.at < $.items[1].at]").select(root).size(), 0u);
  EXPECT_EQ(path("$.items[?@.at <= $.items[1].at]").select(root).size(), 1u);
  EXPECT_EQ(path("$.items[?@.price == 19.99]").select(root).size(), 0u);
  EXPECT_EQ(path("$.items[?@.price == '19.99']").select(root).size(), 0u);
  EXPECT_EQ(path("$.items[?@.id == '5f1d7a2b9c8e4a3b2c1d0e0f']").select(root).size(), 1u);
  EXPECT_EQ(path("$.items[?length(@.id) == 12]").select(root).size(), 0u);
  EXPECT_EQ(path("$.items[?match(@.id, '.*')]").select(root).size(), 1u);
  // Wildcards and descendants go through them as leaves.
  EXPECT_EQ(path("$.ref.*").select(root).size(), 0u);
  EXPECT_EQ(path("$..id").select(root).size(), 3u);
}

TEST_F(JsonPathTest, RegexFunctionsFollowIRegexp) {
  json::Value root = doc(R"(["abc", "^ab", "a\nc", "Ωmega", "x\u0378y", "a.c", "ab$"])");
  // `.` excludes only line breaks; `^` and `$` anchor (the ECMAScript reading the suite uses),
  // and escaped they are literal.
  EXPECT_EQ(run("$[?match(@, 'a.c')]", root), (Nodes{"$[0]=\"abc\"", "$[5]=\"a.c\""}));
  EXPECT_EQ(run("$[?search(@, '^ab')]", root), (Nodes{"$[0]=\"abc\"", "$[6]=\"ab$\""}));
  EXPECT_EQ(run("$[?match(@, '\\\\^ab')]", root), (Nodes{"$[1]=\"^ab\""}));
  EXPECT_EQ(run("$[?search(@, 'b$')]", root), (Nodes{"$[1]=\"^ab\""}));
  EXPECT_EQ(run("$[?search(@, 'b\\\\$')]", root), (Nodes{"$[6]=\"ab$\""}));
  EXPECT_EQ(run("$[?match(@, '\\\\p{Lu}\\\\p{Ll}+')]", root), (Nodes{"$[3]=\"Ωmega\""}));
  // U+0378 is unassigned: category Cn, and so C, which RE2 does not provide as such.
  EXPECT_EQ(run("$[?search(@, '\\\\p{Cn}')]", root), (Nodes{"$[4]=\"x\u0378y\""}));
  EXPECT_EQ(run("$[?search(@, '\\\\p{C}')]", root), (Nodes{"$[2]=\"a\\nc\"", "$[4]=\"x\u0378y\""}));
  EXPECT_EQ(run("$[?match(@, '[^\\\\p{C}]+')]", root).size(), 5u);
  EXPECT_EQ(run("$[?search(@, '[Ω\\\\p{Cn}]')]", root).size(), 2u);
  // Not I-Regexp: multi-character escapes, lazy quantifiers, anchors as syntax. False, not error.
  EXPECT_TRUE(run("$[?search(@, '\\\\d')]", root).empty());
  EXPECT_TRUE(run("$[?match(@, 'a.*?')]", root).empty());
  EXPECT_TRUE(run("$[?!match(@, '(')]", root).size() == 7);
}

TEST_F(JsonPathTest, RegexFromTheDocumentIsCompiledPerCall) {
  json::Value root = doc(R"({"re": "a.c", "bad": "a(", "v": ["abc", "xyz"]})");
  EXPECT_EQ(run("$.v[?match(@, $.re)]", root), (Nodes{"$['v'][0]=\"abc\""}));
  EXPECT_TRUE(run("$.v[?match(@, $.bad)]", root).empty());
  EXPECT_TRUE(run("$.v[?match(@, $.missing)]", root).empty());
}

TEST_F(JsonPathTest, TranslatesIRegexpToRe2) {
  std::string out;
  ASSERT_TRUE(iregexp_to_re2("a.b", out));
  EXPECT_EQ(out, "a[^\\n\\r]b");
  ASSERT_TRUE(iregexp_to_re2("^$", out));
  EXPECT_EQ(out, "^$");
  ASSERT_TRUE(iregexp_to_re2("[-a-z\\]]{2,}|(x)?", out));
  EXPECT_EQ(out, "[\\-a-z\\]]{2,}|(?:x)?");
  ASSERT_TRUE(iregexp_to_re2("\\P{Lu}[\\p{Nd}-]", out));
  EXPECT_EQ(out, "[\\P{Lu}][\\p{Nd}\\-]");
  for (std::string_view bad : {"\\d", "a**", "[]", "[a-b-c]", "[z-a]", "(a", "a)", "\\p{Xx}",
                               "a{,2}", "[\\p{L}-z]", "[^a\\p{C}]", "\xff"}) {
    EXPECT_FALSE(iregexp_to_re2(bad, out)) << bad;
  }
}

TEST_F(JsonPathTest, FunctionsComposeByType) {
  json::Value root = doc(R"([{"a": [1, 2]}, {"a": "héllo"}, {"a": {"x": 1}}, {"b": 1}])");
  EXPECT_EQ(path("$[?length(@.a) == 2]").select(root).size(), 1u);
  EXPECT_EQ(path("$[?length(@.a) == 5]").select(root).size(), 1u);
  EXPECT_EQ(path("$[?count(@.*) == 1]").select(root).size(), 4u);
  EXPECT_EQ(path("$[?count(@..*) == 2]").select(root).size(), 1u);
  EXPECT_EQ(path("$[?length(value(@.a)) == 2]").select(root).size(), 1u);
  EXPECT_EQ(path("$[?value(@..x) == 1]").select(root).size(), 1u);
  // Nothing equals Nothing.
  EXPECT_EQ(path("$[?length(value(@..x)) == length(value(@..b))]").select(root).size(), 4u);
  EXPECT_EQ(path("$[?value(@.*) == 1]").select(root).size(), 1u);
  EXPECT_EQ(error("$[?count(value(@.a)) == 1]"), "expected a query at position 9");
  EXPECT_EQ(error("$[?length(match(@, 'a')) == 1]"),
            "expected a value, not a logical result at position 10");
  EXPECT_EQ(error("$[?match(@, 'a') == true]"),
            "the result of this function cannot be compared at position 3");
  EXPECT_EQ(error("$[?length(@.a == 1) == 1]"),
            "a logical expression is not a value here at position 10");
}

}  // namespace
}  // namespace canonry::jsonpath
