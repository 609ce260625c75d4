// Runs the JSONata test suite (jsonata-js's test/test-suite: groups/<group>/<case>.json, each a
// case or an array of cases, with inputs in datasets/) against canonry::expr.
// Usage: conformance_jsonata TESTDATA [KNOWN_FAILURES] [-v] [--filter TEXT]
// Prints "N passed, M failed"; exits 1 when a case fails that the known-failures file does not
// list (lines "group/case  # reason").
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "expr/expression.h"
#include "json/parser.h"
#include "json/writer.h"

namespace fs = std::filesystem;
using canonry::Arena;
namespace json = canonry::json;
namespace expr = canonry::expr;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Outcome {
  bool pass = false;
  std::string detail;
};

Outcome run_case(const json::Value& tc, const fs::path& group_dir, const fs::path& datasets,
                 Arena& arena, std::map<std::string, json::Value>& dataset_cache) {
  Outcome out;
  std::string text;
  if (const json::Value* e = tc.find("expr"); e && e->is_string()) {
    text = std::string(e->as_string());
  } else if (const json::Value* f = tc.find("expr-file"); f && f->is_string()) {
    text = read_file(group_dir / std::string(f->as_string()));
  } else {
    out.detail = "no expr";
    return out;
  }
  json::ParseOptions options;
  options.extended_json = false;
  options.max_depth = 1000;
  const json::Value* input = nullptr;
  json::Value input_value;
  if (const json::Value* data = tc.find("data")) {
    input_value = *data;
    input = &input_value;
  } else if (const json::Value* ds = tc.find("dataset"); ds && ds->is_string()) {
    std::string name(ds->as_string());
    auto it = dataset_cache.find(name);
    if (it == dataset_cache.end()) {
      static Arena dataset_arena;
      auto parsed = json::parse(read_file(datasets / (name + ".json")), dataset_arena, options);
      if (!parsed) {
        out.detail = "cannot read dataset " + name;
        return out;
      }
      it = dataset_cache.emplace(name, *parsed).first;
    }
    input_value = it->second;
    input = &input_value;
  }
  expr::Bindings bindings;
  if (const json::Value* b = tc.find("bindings"); b && b->is_object()) {
    for (const json::Member& m : b->members()) bindings.bind(std::string(m.key), m.value);
  }
  expr::Limits limits;
  limits.timeout_ms = 10000;
  if (const json::Value* d = tc.find("depth"); d && d->is_numeric()) {
    limits.max_depth = static_cast<int64_t>(d->as_double());
  }
  if (const json::Value* t = tc.find("timelimit"); t && t->is_numeric()) {
    limits.timeout_ms = static_cast<int64_t>(t->as_double());
  }
  const json::Value* code = tc.find("code");
  if (!code) {
    if (const json::Value* error = tc.find("error"); error && error->is_object()) {
      code = error->find("code");
    }
  }
  expr::ExprError error;
  auto compiled = expr::Expression::compile(text, &error);
  if (!compiled) {
    if (code && code->is_string() && code->as_string() == error.code) {
      out.pass = true;
    } else {
      out.detail = "compile error " + error.code + ": " + error.message;
    }
    return out;
  }
  auto result = compiled->evaluate(input, arena, &bindings, limits, &error);
  if (!result) {
    if (code && code->is_string() && code->as_string() == error.code) {
      out.pass = true;
    } else {
      out.detail = "error " + error.code + ": " + error.message;
    }
    return out;
  }
  if (code) {
    out.detail = "expected error " + std::string(code->as_string()) + ", got " +
                 (result->has_value() ? json::to_json(**result) : "undefined");
    return out;
  }
  if (const json::Value* undef = tc.find("undefinedResult");
      undef && undef->is_bool() && undef->as_bool()) {
    if (!result->has_value()) {
      out.pass = true;
    } else {
      out.detail = "expected undefined, got " + json::to_json(**result);
    }
    return out;
  }
  const json::Value* expected = tc.find("result");
  if (!expected) {
    // A case without an expectation: only that it evaluates.
    out.pass = !result->has_value();
    if (!out.pass) out.detail = "expected undefined, got " + json::to_json(**result);
    return out;
  }
  if (!result->has_value()) {
    out.detail = "expected " + json::to_json(*expected) + ", got undefined";
    return out;
  }
  if (json::equal(**result, *expected)) {
    out.pass = true;
  } else {
    out.detail = "expected " + json::to_json(*expected) + ", got " + json::to_json(**result);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: conformance_jsonata TESTDATA [KNOWN_FAILURES] [-v] [--filter TEXT]\n";
    return 2;
  }
  fs::path root = fs::path(argv[1]) / "jsonata-test-suite";
  std::string known_path;
  bool verbose = false;
  std::string filter;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-v") {
      verbose = true;
    } else if (a == "--filter" && i + 1 < argc) {
      filter = argv[++i];
    } else {
      known_path = a;
    }
  }
  std::set<std::string> known;
  if (!known_path.empty()) {
    std::ifstream in(known_path);
    std::string line;
    while (std::getline(in, line)) {
      std::string id = line.substr(0, line.find('#'));
      id.erase(id.find_last_not_of(" \t") + 1);
      if (!id.empty()) known.insert(id);
    }
  }
  std::vector<fs::path> files;
  for (const auto& group : fs::directory_iterator(root / "groups")) {
    if (!group.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(group.path())) {
      if (f.path().extension() == ".json") files.push_back(f.path());
    }
  }
  std::sort(files.begin(), files.end());
  int passed = 0, failed = 0, unexpected = 0;
  std::map<std::string, std::pair<int, int>> per_group;
  std::map<std::string, json::Value> dataset_cache;
  Arena file_arena;
  Arena arena;
  json::ParseOptions options;
  options.extended_json = false;
  options.max_depth = 1000;
  for (const fs::path& file : files) {
    std::string group = file.parent_path().filename().string();
    std::string base = group + "/" + file.stem().string();
    if (!filter.empty() && base.find(filter) == std::string::npos) continue;
    file_arena.reset();
    auto doc = json::parse(read_file(file), file_arena, options);
    if (!doc) {
      bool listed = known.count(base) > 0;
      if (!listed) ++unexpected;
      if (verbose || !listed)
        std::cout << (listed ? "known " : "FAIL ") << base
                  << ": cannot parse the case: " << doc.status().message() << "\n";
      ++failed;
      ++per_group[group].second;
      continue;
    }
    std::vector<std::pair<std::string, json::Value>> cases;
    if (doc->is_array()) {
      for (size_t i = 0; i < doc->size(); ++i) {
        cases.emplace_back(base + "[" + std::to_string(i) + "]", doc->items()[i]);
      }
    } else {
      cases.emplace_back(base, *doc);
    }
    for (const auto& [id, tc] : cases) {
      arena.reset();
      Outcome o = run_case(tc, file.parent_path(), root / "datasets", arena, dataset_cache);
      auto& g = per_group[group];
      if (o.pass) {
        ++passed;
        ++g.first;
      } else {
        ++failed;
        ++g.second;
        bool listed = known.count(id) > 0;
        if (!listed) ++unexpected;
        if (verbose || !listed) {
          const json::Value* e = tc.find("expr");
          std::cout << (listed ? "known " : "FAIL ") << id << ": "
                    << (e && e->is_string() ? std::string(e->as_string()) : "") << "\n    "
                    << o.detail.substr(0, 400) << "\n";
        }
      }
    }
  }
  if (verbose) {
    for (const auto& [group, counts] : per_group) {
      std::cout << group << ": " << counts.first << " passed, " << counts.second << " failed\n";
    }
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  return unexpected > 0 ? 1 : 0;
}
