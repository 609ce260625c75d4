#include <gtest/gtest.h>

#include "expr/expression.h"
#include "json/parser.h"
#include "json/writer.h"

namespace canonry::expr {
namespace {

std::string eval_json(std::string_view expression, std::string_view input,
                      const Limits& limits = {}, const Bindings* bindings = nullptr) {
  Arena arena;
  auto compiled = Expression::compile(expression);
  if (!compiled) return "compile: " + compiled.status().message();
  auto doc = json::parse(input, arena);
  if (!doc) return "input: " + doc.status().message();
  auto result = compiled->evaluate(*doc, arena, bindings, limits);
  if (!result) return "error: " + result.status().message();
  if (!result->has_value()) return "undefined";
  return json::to_json(**result);
}

TEST(Expression, PathsPredicatesAndAggregates) {
  const char* doc =
      R"({"items": [{"sku": "a", "qty": 2, "price": 1.5}, {"sku": "b", "qty": 1, "price": 10}]})";
  EXPECT_EQ(eval_json("items[qty > 1].sku", doc), "\"a\"");
  EXPECT_EQ(eval_json("$sum(items.(qty * price))", doc), "13");
  EXPECT_EQ(eval_json("items^(>price).sku", doc), "[\"b\",\"a\"]");
  EXPECT_EQ(eval_json("items{sku: qty}", doc), "{\"a\":2,\"b\":1}");
  EXPECT_EQ(eval_json("missing.field", doc), "undefined");
}

TEST(Expression, CompileErrorsCarryCodeAndPosition) {
  ExprError error;
  auto compiled = Expression::compile("a + (b", &error);
  ASSERT_FALSE(compiled);
  EXPECT_EQ(error.code, "S0203");
  EXPECT_EQ(error.position, 6);
  EXPECT_EQ(compiled.status().code(), ErrorCode::kExpression);
  EXPECT_NE(compiled.status().message().find("S0203"), std::string::npos);
}

TEST(Expression, EvaluationErrorsCarryCodeAndPosition) {
  Arena arena;
  auto compiled = Expression::compile("1 + 'x'");
  ASSERT_TRUE(compiled);
  ExprError error;
  auto result = compiled->evaluate(nullptr, arena, nullptr, Limits{}, &error);
  ASSERT_FALSE(result);
  EXPECT_EQ(error.code, "T2002");
  EXPECT_EQ(error.position, 3);
}

TEST(Expression, CompiledOnceEvaluatesManyDocuments) {
  auto compiled = Expression::compile("name & '-' & $string(n)");
  ASSERT_TRUE(compiled);
  Arena arena;
  for (int i = 0; i < 100; ++i) {
    arena.reset();
    std::string doc = "{\"name\": \"x\", \"n\": " + std::to_string(i) + "}";
    auto input = json::parse(doc, arena);
    ASSERT_TRUE(input);
    auto result = compiled->evaluate(*input, arena);
    ASSERT_TRUE(result);
    EXPECT_EQ(json::to_json(**result), "\"x-" + std::to_string(i) + "\"");
  }
}

TEST(Expression, Bindings) {
  Arena arena;
  Bindings bindings;
  bindings.bind("rate", json::Value::number(0.5));
  EXPECT_EQ(eval_json("amount * $rate", R"({"amount": 10})", Limits{}, &bindings), "5");
}

TEST(Expression, VariablesShadowBuiltins) {
  EXPECT_EQ(eval_json("($string := function($x) { 's' }; $string(1))", "{}"), "\"s\"");
  EXPECT_EQ(eval_json("(function($uppercase) { $uppercase })(5)", "{}"), "5");
  EXPECT_EQ(eval_json("($eval('$trim := 7'); $trim)", "{}"), "7");
  Bindings bindings;
  bindings.bind("uppercase", json::Value::integer(1));
  EXPECT_EQ(eval_json("$uppercase", "{}", Limits{}, &bindings), "1");
  EXPECT_EQ(eval_json("$lowercase('A')", "{}", Limits{}, &bindings), "\"a\"");
}

TEST(Expression, DepthLimitStopsRunawayRecursion) {
  Limits limits;
  limits.max_depth = 200;
  std::string out =
      eval_json("($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))", "{}", limits);
  EXPECT_NE(out.find("U1001"), std::string::npos) << out;
}

TEST(Expression, TimeLimitStopsInfiniteLoops) {
  Limits limits;
  limits.timeout_ms = 50;
  std::string out = eval_json("($f := function($n) { $f($n + 1) }; $f(0))", "{}", limits);
  EXPECT_NE(out.find("U1001"), std::string::npos) << out;
}

TEST(Expression, TailCallsRunInConstantDepth) {
  Limits limits;
  limits.max_depth = 100;
  EXPECT_EQ(eval_json("($loop := function($n, $acc) { $n = 0 ? $acc : $loop($n - 1, $acc + 1) };"
                      " $loop(10000, 0))",
                      "{}", limits),
            "10000");
}

TEST(Expression, MongoTypesBecomeJsonOnEntry) {
  EXPECT_EQ(eval_json("d", R"({"d": {"$date": "2024-03-01T10:15:00Z"}})"),
            "\"2024-03-01T10:15:00.000Z\"");
  EXPECT_EQ(eval_json("$type(id) & ':' & id", R"({"id": {"$oid": "65a1b2c3d4e5f60718293a4b"}})"),
            "\"string:65a1b2c3d4e5f60718293a4b\"");
  EXPECT_EQ(eval_json("p * 2", R"({"p": {"$numberDecimal": "19.99"}})"), "39.98");
}

TEST(Expression, FunctionResultsAreNull) {
  EXPECT_EQ(eval_json("$uppercase", "{}"), "null");
}

TEST(Expression, RegexUsesRe2AndRefusesBacktrackingFeatures) {
  EXPECT_EQ(eval_json("$replace('a1b22', /[0-9]+/, '#')", "{}"), "\"a#b#\"");
  ExprError error;
  EXPECT_FALSE(Expression::compile("$match('aa', /(a)\\1/)", &error));
  EXPECT_EQ(error.code, "S0303");
}

TEST(Expression, DatePictures) {
  EXPECT_EQ(eval_json("$fromMillis(1709288100000, '[D1o] [MNn] [Y] [H01]:[m01]')", "{}"),
            "\"1st March 2024 10:15\"");
  EXPECT_EQ(eval_json("$toMillis('2024-03-01T10:15:00.000Z')", "{}"), "1709288100000");
}

}  // namespace
}  // namespace canonry::expr
