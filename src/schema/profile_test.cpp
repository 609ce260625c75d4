#include "schema/profile.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "json/parser.h"
#include "json/writer.h"
#include "schema/discover.h"

namespace canonry::schema {
namespace {

Profile profile_of(const std::vector<std::string>& documents, ProfileOptions options = {}) {
  Profile profile(options);
  Arena arena;
  for (const std::string& text : documents) {
    auto value = json::parse(text, arena);
    EXPECT_TRUE(value.is_ok()) << text;
    profile.add(*value);
    arena.reset();
  }
  return profile;
}

std::string lines_of(const Profile& profile) {
  std::string out;
  profile.write_lines(out);
  return out;
}

// The profile line of `path`, or an empty string.
std::string line_of(const Profile& profile, const std::string& path) {
  std::string all = lines_of(profile);
  std::string prefix = "{\"path\":\"" + path + "\",";
  size_t at = all.find(prefix);
  if (at == std::string::npos) return {};
  return all.substr(at, all.find('\n', at) - at);
}

TEST(Profile, CountsTypesAndPresence) {
  Profile p = profile_of({
      R"({"id": 1, "name": "a", "tags": ["x", "y"], "price": 1.5})",
      R"({"id": 2, "name": null, "tags": [], "price": {"$numberDecimal": "12.50"}})",
      R"({"id": 3, "tags": ["x"], "price": "7"})",
      R"({"id": 4, "name": "abcd", "extra": true})",
  });
  EXPECT_EQ(p.documents(), 4u);
  const FieldNode* name = p.root().member("name");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(name->stats.count, 3u);
  EXPECT_EQ(name->stats.nulls(), 1u);
  EXPECT_EQ(name->stats.of(json::Type::kString), 2u);
  EXPECT_EQ(line_of(p, "$.name"),
            R"({"path":"$.name","count":3,"presence":0.75,"types":{"null":1,"string":2},)"
            R"("nulls":1,"distinct":2,"min":"a","max":"abcd","lengths":{"min":1,"max":4},)"
            R"("formats":{},"top":[{"value":"a","count":1},{"value":"abcd","count":1}]})");
  EXPECT_EQ(line_of(p, "$.tags[*]"),
            R"({"path":"$.tags[*]","count":3,"presence":1.0,"types":{"string":3},"nulls":0,)"
            R"("distinct":2,"min":"x","max":"y","lengths":{"min":1,"max":1},"formats":{},)"
            R"("top":[{"value":"x","count":2},{"value":"y","count":1}]})");
  EXPECT_EQ(line_of(p, "$.tags"),
            R"({"path":"$.tags","count":3,"presence":0.75,"types":{"array":3},"nulls":0,)"
            R"("distinct":0,"itemCounts":{"min":0,"max":2}})");
  const FieldNode* price = p.root().member("price");
  ASSERT_NE(price, nullptr);
  EXPECT_EQ(price->stats.of(json::Type::kNumber), 1u);
  EXPECT_EQ(price->stats.of(json::Type::kDecimal), 1u);
  EXPECT_EQ(price->stats.of(json::Type::kString), 1u);
  EXPECT_NE(line_of(p, "$.price").find(R"("min":1.5,"max":12.5)"), std::string::npos)
      << line_of(p, "$.price");
  EXPECT_NE(line_of(p, "$.id").find(R"("min":1,"max":4)"), std::string::npos);
  EXPECT_EQ(line_of(p, "$").substr(0, 44), R"({"path":"$","count":4,"presence":1.0,"types")");
}

TEST(Profile, MongoTypesAndDates) {
  Profile p = profile_of({
      R"({"_id": {"$oid": "5f1d7a2b9c1e4a0012345678"}, "at": {"$date": "2024-03-01T10:15:00Z"}})",
      R"({"_id": {"$oid": "5f1d7a2b9c1e4a0012345679"}, "at": {"$date": "2024-01-01T00:00:00Z"}})",
  });
  EXPECT_NE(line_of(p, "$._id").find(R"("types":{"objectId":2})"), std::string::npos);
  EXPECT_NE(line_of(p, "$.at").find(
                R"("min":"2024-01-01T00:00:00.000Z","max":"2024-03-01T10:15:00.000Z")"),
            std::string::npos)
      << line_of(p, "$.at");
  EXPECT_NE(line_of(p, "$._id").find(R"({"value":{"$oid":"5f1d7a2b9c1e4a0012345678"},"count":1})"),
            std::string::npos);
}

TEST(Profile, StringFormats) {
  EXPECT_EQ(detect_string_format("2024-03-01T10:15:00.123Z"), StringFormat::kDateTime);
  EXPECT_EQ(detect_string_format("2024-03-01T10:15:00+02:00"), StringFormat::kDateTime);
  EXPECT_EQ(detect_string_format("2024-03-01"), StringFormat::kDate);
  EXPECT_EQ(detect_string_format("ann@example.com"), StringFormat::kEmail);
  EXPECT_EQ(detect_string_format("123e4567-e89b-12d3-a456-426614174000"), StringFormat::kUuid);
  EXPECT_EQ(detect_string_format("https://example.com/a?b=c"), StringFormat::kUri);
  EXPECT_EQ(detect_string_format("mailto:ann@example.com"), StringFormat::kUri);
  EXPECT_EQ(detect_string_format("192.168.0.1"), StringFormat::kIpv4);
  EXPECT_EQ(detect_string_format("5f1d7a2b9c1e4a0012345678"), StringFormat::kObjectIdHex);
  EXPECT_EQ(detect_string_format("2024-13-01"), std::nullopt);
  EXPECT_EQ(detect_string_format("2024-03-01T25:00:00Z"), std::nullopt);
  EXPECT_EQ(detect_string_format("256.1.1.1"), std::nullopt);
  EXPECT_EQ(detect_string_format("01.1.1.1"), std::nullopt);
  EXPECT_EQ(detect_string_format("ann @example.com"), std::nullopt);
  EXPECT_EQ(detect_string_format("note: hello"), std::nullopt);
  EXPECT_EQ(detect_string_format("hello world"), std::nullopt);
}

TEST(Profile, ExactTopUntilCapacityThenSketch) {
  ProfileOptions options;
  options.exact_values = 5;
  std::vector<std::string> few, many;
  for (int i = 0; i < 20; ++i) few.push_back(R"({"s": "v)" + std::to_string(i % 5) + "\"}");
  for (int i = 0; i < 20; ++i) many.push_back(R"({"s": "v)" + std::to_string(i % 6) + "\"}");
  Profile p5 = profile_of(few, options);
  EXPECT_TRUE(p5.root().member("s")->stats.values.exact());
  EXPECT_EQ(p5.root().member("s")->stats.values.distinct(), 5u);
  EXPECT_NE(line_of(p5, "$.s").find("\"top\""), std::string::npos);
  Profile p6 = profile_of(many, options);
  EXPECT_FALSE(p6.root().member("s")->stats.values.exact());
  EXPECT_EQ(p6.root().member("s")->stats.values.distinct(), 6u);
  EXPECT_EQ(line_of(p6, "$.s").find("\"top\""), std::string::npos);
}

std::vector<std::string> mixed_documents(int n, int salt) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    int k = i * 7 + salt;
    std::string d = "{\"id\": " + std::to_string(k);
    if (k % 3 != 0) d += ", \"status\": \"" + std::string(k % 2 ? "paid" : "new") + "\"";
    if (k % 5 == 0) d += ", \"late\": null";
    d += ", \"items\": [";
    for (int j = 0; j < k % 4; ++j) {
      if (j > 0) d += ",";
      d += "{\"sku\": \"S" + std::to_string(k * 3 + j) + "\", \"qty\": " + std::to_string(j) +
           (j % 2 ? ", \"note\": \"n\"" : "") + "}";
    }
    d += "], \"total\": " + std::to_string(k) + "." + std::to_string(k % 10) + "}";
    out.push_back(d);
  }
  return out;
}

TEST(Profile, MergeEqualsProfileOfConcatenation) {
  ProfileOptions options;
  options.exact_values = 50;  // some paths stay exact, some overflow into sketches
  auto a = mixed_documents(300, 1);
  auto b = mixed_documents(200, 2);
  std::vector<std::string> ab = a;
  ab.insert(ab.end(), b.begin(), b.end());
  Profile merged = profile_of(a, options);
  merged.merge(profile_of(b, options));
  Profile whole = profile_of(ab, options);
  EXPECT_EQ(lines_of(merged), lines_of(whole));
  EXPECT_EQ(profile_to_schema(merged), profile_to_schema(whole));
  // The sketches agree register by register.
  const auto* m = merged.root().member("id")->stats.values.sketch();
  const auto* w = whole.root().member("id")->stats.values.sketch();
  ASSERT_NE(m, nullptr);
  ASSERT_NE(w, nullptr);
  EXPECT_TRUE(*m == *w);
}

TEST(Profile, MergeIntoEmptyAndOfEmpty) {
  auto a = mixed_documents(50, 3);
  Profile p = profile_of(a);
  Profile empty;
  empty.merge(p);
  EXPECT_EQ(lines_of(empty), lines_of(p));
  std::string before = lines_of(p);
  p.merge(Profile());
  EXPECT_EQ(lines_of(p), before);
}

TEST(Profile, DistinctOfManyValuesWithinTwoPercent) {
  Profile p;
  Arena arena;
  for (int i = 0; i < 200000; ++i) {
    std::string doc = R"({"email": "user)" + std::to_string(i) + R"(@example.com"})";
    p.add(*json::parse(doc, arena));
    arena.reset();
  }
  double distinct = static_cast<double>(p.root().member("email")->stats.values.distinct());
  EXPECT_NEAR(distinct, 200000.0, 200000 * 0.02);
}

TEST(Profile, DynamicKeysByDigits) {
  std::vector<std::string> docs;
  for (int d = 0; d < 20; ++d) {
    std::string doc = R"({"id": )" + std::to_string(d) + R"(, "stock": {)";
    for (int k = 0; k < 10; ++k) {
      if (k > 0) doc += ",";
      doc += "\"SKU-" + std::to_string(d * 10 + k) + "\": {\"qty\": " + std::to_string(k) + "}";
    }
    doc += "}}";
    docs.push_back(doc);
  }
  Profile p = profile_of(docs);
  const FieldNode* stock = p.root().member("stock");
  ASSERT_NE(stock, nullptr);
  EXPECT_TRUE(stock->is_dynamic());
  EXPECT_TRUE(stock->members.empty());
  EXPECT_EQ(stock->dynamic_values->stats.count, 200u);
  EXPECT_EQ(stock->dynamic_values->member("qty")->stats.count, 200u);
  EXPECT_NEAR(static_cast<double>(stock->dynamic_names->stats.values.distinct()), 200.0, 4.0);
  EXPECT_NE(line_of(p, "$.stock.*.qty"), "");
  std::string schema = profile_to_schema(p);
  EXPECT_NE(schema.find("\"additionalProperties\""), std::string::npos);
  EXPECT_EQ(schema.find("SKU-1\""), std::string::npos);  // no property per key
}

TEST(Profile, DynamicKeysByRarity) {
  // Names without digits, each in few objects: a map keyed by words.
  std::vector<std::string> docs;
  for (int d = 0; d < 100; ++d) {
    std::string doc = R"({"m": {)";
    for (int k = 0; k < 3; ++k) {
      if (k > 0) doc += ",";
      std::string name;
      for (int x = d * 3 + k + 1; x > 0; x /= 26) name += static_cast<char>('a' + x % 26);
      doc += "\"" + name + "\": 1";
    }
    doc += "}}";
    docs.push_back(doc);
  }
  EXPECT_TRUE(profile_of(docs).root().member("m")->is_dynamic());
}

TEST(Profile, WideFixedObjectStaysProperties) {
  std::vector<std::string> docs;
  for (int d = 0; d < 10; ++d) {
    std::string doc = "{";
    for (int k = 0; k < 80; ++k) {
      if (k > 0) doc += ",";
      std::string name = "field_";
      for (int x = k + 1; x > 0; x /= 26) name += static_cast<char>('a' + x % 26);
      doc += "\"" + name + "\": " + std::to_string(k);
    }
    doc += "}";
    docs.push_back(doc);
  }
  Profile p = profile_of(docs);
  EXPECT_FALSE(p.root().is_dynamic());
  EXPECT_EQ(p.root().members.size(), 80u);
}

TEST(Profile, DynamicDecisionSurvivesMerge) {
  std::vector<std::string> a, b;
  for (int k = 0; k < 40; ++k) a.push_back(R"({"m": {"k)" + std::to_string(k) + R"(": 1}})");
  for (int k = 40; k < 80; ++k) b.push_back(R"({"m": {"k)" + std::to_string(k) + R"(": 1}})");
  Profile pa = profile_of(a);
  EXPECT_FALSE(pa.root().member("m")->is_dynamic());
  pa.merge(profile_of(b));
  std::vector<std::string> ab = a;
  ab.insert(ab.end(), b.begin(), b.end());
  Profile whole = profile_of(ab);
  EXPECT_TRUE(pa.root().member("m")->is_dynamic());
  EXPECT_TRUE(whole.root().member("m")->is_dynamic());
  EXPECT_EQ(lines_of(pa), lines_of(whole));
}

TEST(Profile, MemberPaths) {
  std::string path = "$";
  append_member_path(path, "a_b1");
  append_member_path(path, "with space");
  append_member_path(path, "it's");
  append_member_path(path, "1st");
  EXPECT_EQ(path, R"($.a_b1['with space']['it\'s']['1st'])");
}

TEST(Schema, TypesRequiredItemsAndBsonTypes) {
  Profile p = profile_of({
      R"({"_id": {"$oid": "5f1d7a2b9c1e4a0012345678"}, "email": "a@b.co", "n": 1,
          "items": [{"sku": "A", "q": 1}, {"sku": "B"}], "at": {"$date": "2024-03-01T10:15:00Z"},
          "price": {"$numberDecimal": "1.50"}})",
      R"({"_id": {"$oid": "5f1d7a2b9c1e4a0012345679"}, "email": null, "n": 2.5,
          "items": [], "at": {"$date": "2024-03-02T10:15:00Z"}, "price": 3})",
  });
  std::string schema = profile_to_schema(p);
  Arena arena;
  auto parsed = json::parse(schema, arena);
  ASSERT_TRUE(parsed.is_ok()) << schema;
  const json::Value& root = *parsed;
  auto text = [](const json::Value* v) { return v ? json::to_json(*v) : std::string("absent"); };
  EXPECT_EQ(text(root.find("$schema")), R"("https://json-schema.org/draft/2020-12/schema")");
  EXPECT_EQ(text(root.find("required")), R"(["_id","email","n","items","at","price"])");
  const json::Value* props = root.find("properties");
  ASSERT_NE(props, nullptr);
  auto prop = [&](std::string_view name) { return props->find(name); };
  EXPECT_EQ(text(prop("email")->find("type")), R"(["string","null"])");
  EXPECT_EQ(text(prop("email")->find("format")), R"("email")");
  EXPECT_EQ(text(prop("_id")->find("type")), R"("string")");
  EXPECT_EQ(text(prop("_id")->find("x-bsonType")), R"("objectId")");
  EXPECT_EQ(text(prop("at")->find("type")), R"("string")");
  EXPECT_EQ(text(prop("at")->find("x-bsonType")), R"("date")");
  EXPECT_EQ(text(prop("at")->find("format")), R"("date-time")");
  EXPECT_EQ(text(prop("price")->find("type")), R"("number")");
  EXPECT_EQ(text(prop("price")->find("x-bsonType")), R"("decimal")");
  EXPECT_EQ(text(prop("n")->find("type")), R"("number")");
  const json::Value* items = prop("items")->find("items");
  ASSERT_NE(items, nullptr);
  EXPECT_EQ(text(items->find("required")), R"(["sku"])");  // q: presence 0.5
  EXPECT_EQ(text(items->find("x-profile")->find("count")), "2");
  SchemaOptions loose;
  loose.required_threshold = 0.5;
  EXPECT_NE(profile_to_schema(p, loose).find(R"("required": ["sku", "q"])"), std::string::npos);
  // Every subschema carries its profile: one per path.
  size_t profiles = 0;
  for (size_t at = schema.find("x-profile"); at != std::string::npos;
       at = schema.find("x-profile", at + 1)) {
    ++profiles;
  }
  EXPECT_EQ(profiles, 10u);
}

TEST(Schema, PrettyJsonKeepsShortContainersOnOneLine) {
  EXPECT_EQ(pretty_json(R"({"a":[1,2],"b":{"c":"x,y:z"}})"),
            "{\"a\": [1, 2], \"b\": {\"c\": \"x,y:z\"}}\n");
  EXPECT_EQ(pretty_json(R"({"a":[1,2],"b":{"c":"x"}})", 18),
            "{\n  \"a\": [1, 2],\n  \"b\": {\"c\": \"x\"}\n}\n");
}

TEST(Reservoir, KeepsAUniformSample) {
  // Each of 100 items should land in a sample of 10 about 10 % of the time.
  std::vector<int> hits(100, 0);
  for (uint64_t trial = 0; trial < 2000; ++trial) {
    std::vector<Reservoir> parts;
    parts.emplace_back(10, trial * 2 + 1);
    parts.emplace_back(10, trial * 2 + 2);
    for (int i = 0; i < 100; ++i) {
      Reservoir& r = parts[i < 70 ? 0 : 1];
      if (r.offer()) r.keep(std::to_string(i));
    }
    auto sample = Reservoir::merge(parts, 10, trial);
    ASSERT_EQ(sample.size(), 10u);
    for (const auto& s : sample) ++hits[std::stoi(s)];
  }
  for (int i = 0; i < 100; ++i) EXPECT_NEAR(hits[i], 200, 60) << i;
}

}  // namespace
}  // namespace canonry::schema
