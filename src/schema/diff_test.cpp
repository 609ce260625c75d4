#include "schema/diff.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "json/parser.h"
#include "schema/discover.h"
#include "schema/profile.h"

namespace canonry::schema {
namespace {

std::string discovered(const std::vector<std::string>& documents, bool lines) {
  Profile profile;
  Arena arena;
  for (const std::string& text : documents) {
    profile.add(*json::parse(text, arena));
    arena.reset();
  }
  if (!lines) return profile_to_schema(profile);
  std::string out;
  profile.write_lines(out);
  return out;
}

std::vector<std::string> kinds(const std::vector<Change>& changes) {
  std::vector<std::string> out;
  for (const Change& c : changes) out.push_back(c.path + " " + c.kind + (c.breaking ? " !" : ""));
  return out;
}

TEST(Diff, SchemaAndProfileSidesAgree) {
  std::vector<std::string> old_docs = {R"({"a": 1, "b": {"c": "x"}, "d": [1]})",
                                       R"({"a": 2, "b": {"c": "y"}, "d": []})"};
  std::vector<std::string> new_docs = {R"({"a": 1.5, "b": null, "e": true})",
                                       R"({"a": 2, "e": false})"};
  for (bool old_lines : {false, true}) {
    for (bool new_lines : {false, true}) {
      auto o = load_shape(discovered(old_docs, old_lines), 1.0);
      auto n = load_shape(discovered(new_docs, new_lines), 1.0);
      ASSERT_TRUE(o.is_ok()) << o.status().to_string();
      ASSERT_TRUE(n.is_ok()) << n.status().to_string();
      EXPECT_EQ(kinds(diff_shapes(*o, *n)),
                (std::vector<std::string>{
                    "$.a type-widened !",  // integer -> integer, number
                    "$.b type-changed !",  // object -> null
                    "$.b required-to-optional !", "$.b presence-changed",
                    "$.b.c removed !",  // was required under $.b
                    "$.e added",        // after $.b, as in the new document order
                    "$.d removed !",    // descendants ($.d[*]) are implied
                }))
          << old_lines << new_lines;
    }
  }
}

TEST(Diff, NarrowingAndRequiredChanges) {
  auto o = load_shape(discovered({R"({"a": 1, "b": "x"})", R"({"a": null})"}, false), 1.0);
  auto n = load_shape(discovered({R"({"a": 1, "b": "x"})", R"({"a": 2, "b": "y"})"}, false), 1.0);
  ASSERT_TRUE(o.is_ok() && n.is_ok());
  auto changes = diff_shapes(*o, *n);
  EXPECT_EQ(kinds(changes),
            (std::vector<std::string>{"$.a type-narrowed", "$.b optional-to-required",
                                      "$.b presence-changed"}));
  EXPECT_EQ(changes[2].old_json, "0.5");
  EXPECT_EQ(changes[2].new_json, "1");
  DiffOptions coarse;
  coarse.presence_threshold = 0.6;
  EXPECT_EQ(diff_shapes(*o, *n, coarse).size(), 2u);
}

TEST(Diff, IntegerIsANumber) {
  auto o = load_shape(R"({"type": "object", "properties": {"n": {"type": "number"}}})", 1.0);
  auto n = load_shape(R"({"type": "object", "properties": {"n": {"type": "integer"}}})", 1.0);
  ASSERT_TRUE(o.is_ok() && n.is_ok());
  EXPECT_EQ(kinds(diff_shapes(*o, *n)), std::vector<std::string>{"$.n type-narrowed"});
  EXPECT_EQ(kinds(diff_shapes(*n, *o)), std::vector<std::string>{"$.n type-widened !"});
}

TEST(Diff, HandWrittenSchemaWithBsonTypes) {
  auto shape = load_shape(
      R"({"type": "object", "required": ["_id"], "properties": {
            "_id": {"type": "string", "x-bsonType": "objectId"},
            "m": {"type": "object", "additionalProperties": {"type": "integer"}}}})",
      1.0);
  ASSERT_TRUE(shape.is_ok());
  ASSERT_NE(shape->find("$._id"), nullptr);
  EXPECT_EQ(shape->find("$._id")->types, (std::vector<std::string>{"objectId", "string"}));
  EXPECT_TRUE(shape->find("$._id")->required);
  ASSERT_NE(shape->find("$.m.*"), nullptr);
  EXPECT_FALSE(shape->find("$.m.*")->can_be_required);
}

TEST(Diff, BadInputs) {
  EXPECT_FALSE(load_shape("", 1.0).is_ok());
  EXPECT_FALSE(load_shape("[1, 2]", 1.0).is_ok());
  EXPECT_FALSE(load_shape("{\"type\": ", 1.0).is_ok());
  auto lines = load_shape("{\"path\": \"$\"}\n{\"nopath\": 1}\n", 1.0);
  ASSERT_FALSE(lines.is_ok());
  EXPECT_NE(lines.status().message().find("line 2"), std::string::npos);
}

TEST(Diff, Reports) {
  std::vector<Change> none;
  EXPECT_EQ(changes_to_json(none),
            "{\n  \"compatibility\": \"backward-compatible\",\n  \"summary\": {},\n"
            "  \"changes\": []\n}\n");
  std::vector<Change> one = {{"$.a", "removed", "[\"string\"]", "null", true}};
  EXPECT_NE(changes_to_json(one).find(R"({"path": "$.a", "kind": "removed", "old": ["string"], )"
                                      R"("new": null, "compatibility": "breaking"})"),
            std::string::npos);
  EXPECT_EQ(changes_to_text(one),
            "breaking    removed              $.a  [\"string\"] -> null\n"
            "1 change, 1 breaking: breaking for consumers\n");
}

}  // namespace
}  // namespace canonry::schema
