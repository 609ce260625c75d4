#include "pipeline/stats.h"

#include <gtest/gtest.h>

#include "pipeline/config.h"

namespace canonry::pipeline {
namespace {

TEST(LatencyHistogram, CountsIntoBucketsAndEstimatesQuantiles) {
  LatencyHistogram histogram;
  for (int i = 0; i < 98; ++i) histogram.observe(0.0015);  // the 2 ms bucket
  histogram.observe(0.3);                                  // the 500 ms bucket
  histogram.observe(100);                                  // above every bound
  EXPECT_EQ(histogram.count(), 100u);
  auto buckets = histogram.buckets();
  EXPECT_EQ(buckets[1], 98u);
  EXPECT_EQ(buckets[8], 1u);
  EXPECT_EQ(buckets.back(), 1u);
  EXPECT_DOUBLE_EQ(histogram.quantile(0.5), 0.002);
  EXPECT_DOUBLE_EQ(histogram.quantile(0.99), 0.5);
  EXPECT_NEAR(histogram.sum(), 98 * 0.0015 + 0.3 + 100, 1e-3);
}

TEST(PipelineStats, PrometheusExposition) {
  PipelineStats stats("orders");
  PartitionStats& partition = stats.partition({"shop \"v1\"", 3});
  partition.received = 10;
  partition.upserts = 7;
  partition.deletes = 1;
  partition.dead_letters = 2;
  EXPECT_EQ(&stats.partition({"shop \"v1\"", 3}), &partition);  // the same counters again
  SinkStats& sink = stats.add_sink("state", "sqlite:var/state.db");
  sink.batches = 4;
  sink.latency.observe(0.004, 3);
  std::string text = stats.prometheus();
  EXPECT_NE(text.find("# TYPE canonry_source_received_total counter\n"
                      "canonry_source_received_total{pipeline=\"orders\",source=\"shop "
                      "\\\"v1\\\"\",partition=\"3\"} 10\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("canonry_source_sent_total{pipeline=\"orders\",source=\"shop \\\"v1\\\"\","
                      "partition=\"3\"} 8\n"),
            std::string::npos);
  // Gauges that are unknown (-1) are left out rather than reported as -1.
  EXPECT_EQ(text.find("canonry_source_lag{"), std::string::npos);
  EXPECT_NE(text.find("canonry_sink_batches_total{pipeline=\"orders\",role=\"state\","
                      "sink=\"sqlite:var/state.db\"} 4\n"),
            std::string::npos);
  // Histogram buckets are cumulative and end with +Inf.
  EXPECT_NE(text.find("canonry_sink_latency_seconds_bucket{pipeline=\"orders\",role=\"state\","
                      "sink=\"sqlite:var/state.db\",le=\"0.002\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("canonry_sink_latency_seconds_bucket{pipeline=\"orders\",role=\"state\","
                      "sink=\"sqlite:var/state.db\",le=\"0.005\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("canonry_sink_latency_seconds_count{pipeline=\"orders\",role=\"state\","
                      "sink=\"sqlite:var/state.db\"} 3\n"),
            std::string::npos);
}

TEST(ParseDuration, UnitsAndRejections) {
  EXPECT_EQ(parse_duration("500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(parse_duration("2s"), std::chrono::milliseconds(2000));
  EXPECT_EQ(parse_duration("1m"), std::chrono::milliseconds(60000));
  EXPECT_EQ(parse_duration("1h"), std::chrono::milliseconds(3600000));
  EXPECT_EQ(parse_duration("0"), std::chrono::milliseconds(0));
  EXPECT_FALSE(parse_duration("5"));
  EXPECT_FALSE(parse_duration("5 s"));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_FALSE(parse_duration("1d"));
  EXPECT_FALSE(parse_duration(""));
}

}  // namespace
}  // namespace canonry::pipeline
