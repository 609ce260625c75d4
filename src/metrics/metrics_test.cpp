#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "common/arena.h"
#include "json/parser.h"
#include "metrics/sketches.h"
#include "metrics/spec.h"
#include "metrics/window_operator.h"

namespace canonry::metrics {
namespace {

TEST(DistinctSketch, ExactWhileSmall) {
  DistinctSketch s;
  for (uint64_t i = 0; i < 1000; ++i) s.add_hash(hash_u64(i % 700));
  EXPECT_EQ(s.estimate(), 700u);
}

TEST(DistinctSketch, MergeDoesNotDependOnTheSplit) {
  for (size_t split : {size_t{10}, size_t{900}, size_t{5000}}) {
    DistinctSketch whole, left, right;
    for (uint64_t i = 0; i < 6000; ++i) {
      whole.add_hash(hash_u64(i));
      (i < split ? left : right).add_hash(hash_u64(i));
    }
    left.merge(right);
    std::string a, b;
    whole.serialize(a);
    left.serialize(b);
    EXPECT_EQ(a, b) << split;
    EXPECT_NEAR(static_cast<double>(whole.estimate()), 6000.0, 6000 * 0.03);
  }
}

TEST(DistinctSketch, SerialisesBothForms) {
  for (uint64_t n : {uint64_t{5}, uint64_t{50000}}) {
    DistinctSketch s;
    for (uint64_t i = 0; i < n; ++i) s.add_hash(hash_u64(i));
    std::string bytes;
    s.serialize(bytes);
    DistinctSketch back;
    std::string_view in = bytes;
    ASSERT_TRUE(back.deserialize(in));
    EXPECT_TRUE(in.empty());
    EXPECT_EQ(back.estimate(), s.estimate());
  }
}

TEST(QuantileSketch, WithinTheStatedRelativeError) {
  std::mt19937_64 random(7);
  std::lognormal_distribution<double> values(3.0, 1.5);
  std::vector<double> data;
  QuantileSketch sketch;
  for (int i = 0; i < 100000; ++i) {
    double v = values(random) * (i % 10 == 0 ? -1 : 1);
    data.push_back(v);
    sketch.add(v);
  }
  std::sort(data.begin(), data.end());
  for (double q : {0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0}) {
    size_t rank = static_cast<size_t>(std::max(1.0, std::ceil(q * data.size() - 1e-6)));
    double exact = data[rank - 1];
    EXPECT_NEAR(sketch.quantile(q), exact, std::fabs(exact) * QuantileSketch::kRelativeAccuracy)
        << q;
  }
}

TEST(QuantileSketch, NearestRank) {
  QuantileSketch three;
  for (double v : {1.0, 2.0, 3.0}) three.add(v);
  EXPECT_NEAR(three.quantile(0.95), 3.0, 0.03);
  EXPECT_NEAR(three.quantile(0.5), 2.0, 0.02);
  EXPECT_NEAR(three.quantile(0.0), 1.0, 0.01);
  QuantileSketch hundred;
  for (int i = 1; i <= 100; ++i) hundred.add(i);
  EXPECT_NEAR(hundred.quantile(0.95), 95.0, 0.95);
}

TEST(QuantileSketch, MergesExactly) {
  QuantileSketch whole, a, b;
  for (int i = 0; i < 5000; ++i) {
    double v = (i * 37 % 1000) / 7.0 - 20;
    whole.add(v);
    (i % 3 == 0 ? a : b).add(v);
  }
  a.merge(b);
  std::string x, y;
  whole.serialize(x);
  a.serialize(y);
  EXPECT_EQ(x, y);
  QuantileSketch back;
  std::string_view in = y;
  ASSERT_TRUE(back.deserialize(in));
  EXPECT_EQ(back.quantile(0.5), whole.quantile(0.5));
}

// A sketch's buckets start sparse and turn dense past QuantileSketch::Buckets::kMaxSparse of
// them or a count beyond 32 bits; whichever form each side is in, the quantiles and the bytes
// are those of the same buckets.
TEST(QuantileSketch, SparseAndDenseFormsAgree) {
  for (int distinct : {1, 31, 32, 33, 200}) {
    QuantileSketch one_by_one, merged;
    for (int i = 0; i < distinct; ++i) {
      double v = (i % 2 == 0 ? 1 : -1) * std::pow(1.05, i);  // one bucket each
      one_by_one.add(v);
      QuantileSketch single;
      single.add(v);
      merged.merge(single);
    }
    std::string x, y;
    one_by_one.serialize(x);
    merged.serialize(y);
    EXPECT_EQ(x, y) << distinct;
    for (double q : {0.0, 0.25, 0.5, 0.95, 1.0}) {
      EXPECT_EQ(one_by_one.quantile(q), merged.quantile(q)) << distinct << " " << q;
    }
  }
  // Doubling a sketch by merging it into a copy of itself takes its counts past 2^32.
  QuantileSketch big;
  big.add(3.0);
  big.add(5.0);
  big.add(-2.0);
  for (int i = 0; i < 34; ++i) {
    QuantileSketch copy = big;
    big.merge(copy);
  }
  EXPECT_EQ(big.count(), uint64_t{3} << 34);
  EXPECT_NEAR(big.quantile(0.0), -2.0, 0.02);
  EXPECT_NEAR(big.quantile(0.5), 3.0, 0.03);
  EXPECT_NEAR(big.quantile(1.0), 5.0, 0.05);
  std::string bytes;
  big.serialize(bytes);
  QuantileSketch back;
  std::string_view in = bytes;
  ASSERT_TRUE(back.deserialize(in));
  std::string again;
  back.serialize(again);
  EXPECT_EQ(bytes, again);
}

MetricSpec spec_of(const std::string& text) {
  auto specs = load_metric_specs_text(text, "test.json");
  EXPECT_TRUE(specs.is_ok()) << specs.status().message();
  return std::move(specs->front());
}

// Random decimal amounts split across partitions in any way give the same rows as one operator,
// and stored partials (serialised and merged back) give them too.
TEST(WindowOperator, PartialsMergeToTheWholeAnyWay) {
  MetricSpec spec = spec_of(R"({"metricId": "m", "time": "$.t",
    "window": {"type": "hopping", "size": "1h", "slide": "30m"},
    "dimensions": {"k": "$.k"}, "lateness": "1d",
    "measures": [{"name": "n", "agg": "count"}, {"name": "s", "agg": "sum", "field": "$.v"},
                 {"name": "a", "agg": "avg", "field": "$.v"},
                 {"name": "lo", "agg": "min", "field": "$.v"},
                 {"name": "hi", "agg": "max", "field": "$.v"},
                 {"name": "d", "agg": "count_distinct", "field": "$.u"},
                 {"name": "p", "agg": "quantile", "q": 0.9, "field": "$.v"}]})");
  std::mt19937_64 random(11);
  std::vector<std::string> records;
  for (int i = 0; i < 3000; ++i) {
    int64_t cents = static_cast<int64_t>(random() % 2000000) - 1000000;
    std::string amount =
        std::to_string(cents / 100) + "." + std::to_string(std::abs(cents % 100) + 100).substr(1);
    if (cents < 0 && cents / 100 == 0) amount = "-" + amount;
    int64_t t = 1700000000000 + static_cast<int64_t>(random() % (6 * 3600 * 1000));
    records.push_back(R"({"t": )" + std::to_string(t) + R"(, "k": ")" +
                      std::string(1, static_cast<char>('a' + random() % 3)) + R"(", "v": )" +
                      amount + R"(, "u": )" + std::to_string(random() % 2000) + "}");
  }
  WindowOperator whole(spec);
  WindowOperator first(spec), second(spec), stored(spec);
  Arena arena;
  Status error;
  for (size_t i = 0; i < records.size(); ++i) {
    arena.reset();
    auto value = json::parse(records[i], arena);
    ASSERT_TRUE(value.is_ok());
    ASSERT_EQ(whole.add(*value, error), WindowOperator::Outcome::kAdded);
    ASSERT_EQ((i % 4 == 0 ? first : second).add(*value, error), WindowOperator::Outcome::kAdded);
  }
  for (WindowOperator* part : {&first, &second}) {
    for (uint32_t g = 0; g < part->group_count(); ++g) {
      ASSERT_TRUE(stored
                      .merge_partial(part->window_start(g), part->dimensions_json(g),
                                     part->serialize_state(g))
                      .is_ok());
    }
  }
  first.merge(second);
  std::string expected, merged, from_store;
  whole.append_rows(expected);
  first.append_rows(merged);
  stored.append_rows(from_store);
  EXPECT_EQ(merged, expected);
  EXPECT_EQ(from_store, expected);
  EXPECT_GT(whole.group_count(), 30u);
}

TEST(MetricSpec, DurationsAndWindows) {
  EXPECT_EQ(parse_duration_ms("90s"), 90000);
  EXPECT_EQ(parse_duration_ms("1d"), 86400000);
  EXPECT_EQ(parse_duration_ms("500ms"), 500);
  EXPECT_FALSE(parse_duration_ms("0s"));
  EXPECT_FALSE(parse_duration_ms("1w"));
  EXPECT_FALSE(parse_duration_ms("-1h"));
  auto bad = load_metric_specs_text(
      R"({"metricId": "m", "time": "$.t", "window": {"type": "tumbling", "size": "1h"},
          "dimensions": {"x": "$.a[*].b[*].c"}, "measures": [{"name": "n", "agg": "count"}]})",
      "f.json");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("f.json: /dimensions/x: "), std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace canonry::metrics
