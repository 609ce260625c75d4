// Runs the JSONPath Compliance Test Suite (jsonpath-cts/cts.json under the testdata folder given
// as argv[1]) against canonry::jsonpath: every case checks either that the selector is rejected,
// or that both the nodelist's values and its normalized paths are as expected (one of several
// nodelists where object member order makes the result non-deterministic).
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "common/arena.h"
#include "json/parser.h"
#include "json/value.h"
#include "json/writer.h"
#include "jsonpath/jsonpath.h"

namespace {

using canonry::json::Value;
using NodeList = std::vector<std::pair<std::string, const Value*>>;

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  out = buffer.str();
  return true;
}

// Case ids listed in the known-failures file: the first word of each non-comment line.
std::set<std::string> read_known_failures(const std::string& path) {
  std::set<std::string> known;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    size_t hash = line.find('#');
    std::string id = line.substr(0, hash);
    while (!id.empty() && (id.back() == ' ' || id.back() == '\t')) id.pop_back();
    if (!id.empty()) known.insert(id);
  }
  return known;
}

bool matches(const NodeList& actual, const Value& values, const Value& paths) {
  if (actual.size() != values.size() || actual.size() != paths.size()) return false;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (!canonry::json::equal(*actual[i].second, values.items()[i])) return false;
    if (actual[i].first != paths.items()[i].as_string()) return false;
  }
  return true;
}

std::string describe(const NodeList& nodes) {
  std::string out = "[";
  for (const auto& [path, value] : nodes) {
    if (out.size() > 1) out += ", ";
    out += path + " = " + canonry::json::to_json(*value);
  }
  return out + "]";
}

// Returns an empty string when the case passes, else what went wrong.
std::string run_case(const Value& test) {
  const Value* selector = test.find("selector");
  if (selector == nullptr || !selector->is_string()) return "case without a selector";
  auto path = canonry::jsonpath::JsonPath::parse(selector->as_string());
  const Value* invalid = test.find("invalid_selector");
  if (invalid != nullptr && invalid->is_bool() && invalid->as_bool()) {
    if (path.is_ok()) return "accepted an invalid selector";
    return {};
  }
  if (!path.is_ok()) return "rejected a valid selector: " + path.status().message();
  const Value* document = test.find("document");
  if (document == nullptr) return "case without a document";
  NodeList actual = path->select_with_paths(*document);
  const Value* result = test.find("result");
  const Value* result_paths = test.find("result_paths");
  if (result != nullptr && result_paths != nullptr) {
    if (matches(actual, *result, *result_paths)) return {};
    return "got " + describe(actual) + ", expected " + canonry::json::to_json(*result) + " at " +
           canonry::json::to_json(*result_paths);
  }
  const Value* results = test.find("results");
  const Value* results_paths = test.find("results_paths");
  if (results == nullptr || results_paths == nullptr || results->size() != results_paths->size()) {
    return "case without expected results";
  }
  for (size_t i = 0; i < results->size(); ++i) {
    if (matches(actual, results->items()[i], results_paths->items()[i])) return {};
  }
  return "got " + describe(actual) + ", expected one of " + canonry::json::to_json(*results);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: jsonpath_cts TESTDATA_DIR [KNOWN_FAILURES]\n";
    return 2;
  }
  std::string suite_path = std::string(argv[1]) + "/jsonpath-cts/cts.json";
  std::string text;
  if (!read_file(suite_path, text)) {
    std::cerr << "cannot read " << suite_path << "\n";
    return 2;
  }
  std::set<std::string> known = argc > 2 ? read_known_failures(argv[2]) : std::set<std::string>{};

  canonry::Arena arena;
  canonry::json::ParseOptions options;
  // The suite's documents are plain JSON: a {"$oid": …} in one must stay an object.
  options.extended_json = false;
  auto suite = canonry::json::parse(text, arena, options);
  if (!suite.is_ok()) {
    std::cerr << suite_path << ": " << suite.status().to_string() << "\n";
    return 2;
  }
  const Value* tests = suite->find("tests");
  if (tests == nullptr || !tests->is_array()) {
    std::cerr << suite_path << ": no \"tests\" array\n";
    return 2;
  }

  size_t passed = 0, failed = 0, unexpected = 0;
  for (const Value& test : tests->items()) {
    const Value* name = test.find("name");
    std::string id = name != nullptr ? std::string(name->as_string()) : "(unnamed)";
    std::string problem = run_case(test);
    if (problem.empty()) {
      ++passed;
      continue;
    }
    ++failed;
    bool listed = known.count(id) != 0;
    if (!listed) ++unexpected;
    std::cout << (listed ? "known failure: " : "FAIL: ") << id << ": " << problem << "\n";
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  return unexpected == 0 ? 0 : 1;
}
