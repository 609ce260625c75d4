// Runs the JSON Schema Test Suite (draft2020-12 and draft7) against canonry::schema::Validator.
// Remote references to http://localhost:1234/ are served from the suite's remotes/ folder, never
// from the network. The required tests decide the exit status; the optional/ ones (format
// assertion among them) are counted and reported on a line of their own.
//
// Case ids: "<draft>/<file>:<group>:<test>" (0-based indices), e.g. "draft7/ref.json:12:0".
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "json/parser.h"
#include "schema/validator.h"

namespace fs = std::filesystem;
using canonry::Arena;
using canonry::ErrorCode;
using canonry::Result;
using canonry::Status;
namespace json = canonry::json;
namespace schema = canonry::schema;

namespace {

bool read_file(const fs::path& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  out = buffer.str();
  return true;
}

std::set<std::string> read_known_failures(const char* path) {
  std::set<std::string> known;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::string id = line.substr(0, line.find('#'));
    id.erase(id.find_last_not_of(" \t\r") + 1);
    id.erase(0, id.find_first_not_of(" \t"));
    if (!id.empty()) known.insert(id);
  }
  return known;
}

struct Counts {
  int passed = 0;
  int failed = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: json_schema TESTDATA [KNOWN_FAILURES]\n";
    return 2;
  }
  fs::path suite = fs::path(argv[1]) / "json-schema-test-suite";
  std::set<std::string> known = argc > 2 ? read_known_failures(argv[2]) : std::set<std::string>{};
  fs::path remotes = suite / "remotes";
  auto resolver = [&](std::string_view uri) -> Result<std::string> {
    constexpr std::string_view kPrefix = "http://localhost:1234/";
    if (!uri.starts_with(kPrefix)) {
      return Status(ErrorCode::kIo, "not available offline: " + std::string(uri));
    }
    std::string text;
    if (!read_file(remotes / std::string(uri.substr(kPrefix.size())), text)) {
      return Status(ErrorCode::kIo, "no such remote: " + std::string(uri));
    }
    return text;
  };
  json::ParseOptions plain;
  plain.extended_json = false;

  Counts required, optional;
  int unexpected = 0;
  for (std::string draft : {"draft2020-12", "draft7"}) {
    fs::path root = suite / "tests" / draft;
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry);
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      std::string relative = fs::relative(file, root).generic_string();
      bool is_optional = relative.starts_with("optional/");
      bool is_format = relative.starts_with("optional/format/");
      Counts& counts = is_optional ? optional : required;
      std::string text;
      Arena arena;
      if (!read_file(file, text)) {
        std::cerr << "cannot read " << file << "\n";
        return 1;
      }
      auto groups = json::parse(text, arena, plain);
      if (!groups || !groups->is_array()) {
        std::cerr << "cannot parse " << file << "\n";
        return 1;
      }
      for (size_t g = 0; g < groups->size(); ++g) {
        const json::Value& group = *groups->at(g);
        schema::ValidatorOptions options;
        options.resolve_remote = resolver;
        options.assert_formats = is_format;
        options.default_draft = draft == "draft7" ? schema::Draft::k7 : schema::Draft::k2020_12;
        auto validator = schema::Validator::compile(*group.find("schema"), options);
        const json::Value& tests = *group.find("tests");
        for (size_t t = 0; t < tests.size(); ++t) {
          const json::Value& test = *tests.at(t);
          std::string id =
              draft + "/" + relative + ":" + std::to_string(g) + ":" + std::to_string(t);
          bool expected = test.find("valid")->as_bool();
          std::string problem;
          if (!validator) {
            problem = "schema does not compile: " + validator.status().to_string();
          } else {
            const json::Value& data = *test.find("data");
            bool fast = validator->is_valid(data);
            auto errors = validator->validate(data);
            if (fast != expected) {
              problem = std::string("is_valid says ") + (fast ? "valid" : "invalid");
            } else if (errors.empty() != expected) {
              problem = std::string("validate() says ") + (errors.empty() ? "valid" : "invalid");
            }
          }
          if (problem.empty()) {
            ++counts.passed;
            if (known.count(id)) std::cout << "known failure now passes: " << id << "\n";
            continue;
          }
          ++counts.failed;
          if (is_optional || known.count(id)) continue;
          ++unexpected;
          std::cout << "FAIL " << id << " (" << group.find("description")->as_string() << " / "
                    << test.find("description")->as_string() << "): " << problem << "\n";
        }
      }
    }
  }
  std::cout << "optional tests (not required): " << optional.passed << " pass, " << optional.failed
            << " fail\n";
  std::cout << required.passed << " passed, " << required.failed << " failed\n";
  return unexpected == 0 ? 0 : 1;
}
