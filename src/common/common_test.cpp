#include <gtest/gtest.h>

#include "common/base64.h"
#include "common/decimal.h"
#include "common/time.h"

namespace canonry {
namespace {

std::string dec(std::string_view text) {
  return Decimal::parse(text)->to_string();
}

TEST(Decimal, ParsesAndPrintsExactly) {
  EXPECT_EQ(dec("19.99"), "19.99");
  EXPECT_EQ(dec("-0.001"), "-0.001");
  EXPECT_EQ(dec("1.5E3"), "1500");
  EXPECT_EQ(dec("1.50"), "1.50");
  EXPECT_EQ(dec("12345678901234567890.123456789"), "12345678901234567890.123456789");
  EXPECT_FALSE(Decimal::parse("1.2.3"));
  EXPECT_FALSE(Decimal::parse("abc"));
  EXPECT_FALSE(Decimal::parse("NaN"));
}

TEST(Decimal, RecognisesPlainNotation) {
  for (const char* plain : {"0", "-1", "19.99", "0.001", "1200"})
    EXPECT_TRUE(is_plain_decimal(plain)) << plain;
  for (const char* other : {"", "-", "01", "1.", ".5", "+1", "1e3", "NaN", "1.2.3", "0x1"}) {
    EXPECT_FALSE(is_plain_decimal(other)) << other;
  }
}

TEST(Decimal, Arithmetic) {
  auto d = [](std::string_view t) { return *Decimal::parse(t); };
  EXPECT_EQ((d("0.1") + d("0.2")).to_string(), "0.3");
  EXPECT_EQ((d("1999") * d("0.01")).to_string(), "19.99");
  EXPECT_EQ((d("5") - d("7.25")).to_string(), "-2.25");
  EXPECT_EQ(d("2.5").round_half_even(0).to_string(), "2");
  EXPECT_EQ(d("3.5").round_half_even(0).to_string(), "4");
  EXPECT_EQ(d("2.675").round_half_even(2).to_string(), "2.68");
  EXPECT_EQ(d("-2.665").round_half_even(2).to_string(), "-2.66");
  EXPECT_EQ(d("9.999").round_half_even(2).to_string(), "10.00");
  EXPECT_EQ(d("1234").round_half_even(-2).to_string(), "1200");
  EXPECT_EQ(d("12.5").round_half_even(2).to_string(), "12.50");
  EXPECT_EQ(d("0").round_half_even(2).to_string(), "0.00");
  EXPECT_TRUE(d("1.10") == d("1.1"));
  EXPECT_TRUE(d("-1") < d("0.5"));
  EXPECT_EQ(*d("42.000").to_int64(), 42);
  EXPECT_FALSE(d("42.5").to_int64());
  EXPECT_EQ(Decimal::from_double(0.1)->to_string(), "0.1");
}

TEST(Time, ParsesIsoWithOffsets) {
  EXPECT_EQ(*parse_iso8601_micros("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*parse_iso8601_micros("2024-03-01T10:15:00.123456789+02:00"),
            *parse_iso8601_micros("2024-03-01T08:15:00.123456Z"));
  EXPECT_EQ(*parse_iso8601_micros("2024-03-01"), *parse_iso8601_micros("2024-03-01T00:00Z"));
  EXPECT_EQ(*parse_iso8601_micros("2024-03-01 10:15:00-0530"),
            *parse_iso8601_micros("2024-03-01T15:45:00Z"));
  EXPECT_FALSE(parse_iso8601_micros("2024-02-30"));
  EXPECT_FALSE(parse_iso8601_micros("2024-03-01T25:00:00Z"));
  EXPECT_FALSE(parse_iso8601_micros("yesterday"));
}

TEST(Time, FormatsMillis) {
  EXPECT_EQ(format_rfc3339_millis(1709288100000), "2024-03-01T10:15:00.000Z");
  EXPECT_EQ(format_rfc3339_millis(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_date(1709288100000), "2024-03-01");
}

TEST(Base64, RoundTrips) {
  EXPECT_EQ(base64_encode("hello"), "aGVsbG8=");
  EXPECT_EQ(*base64_decode("aGVsbG8="), "hello");
  EXPECT_FALSE(base64_decode("a*b"));
}

}  // namespace
}  // namespace canonry
