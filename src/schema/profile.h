// The discovery profiler (DESIGN 4.5): one pass over documents, memory bounded by the number of
// field paths. Per path it keeps exact occurrence and per-type counts, min/max, string and array
// lengths, string formats, and a value counter that is exact while the path has few distinct
// values and a HyperLogLog sketch beyond. Profiles merge: merge(profile(a), profile(b)) equals
// profile(a ++ b) in every exact statistic and in the sketch registers.
//
// Objects whose member names are data (maps keyed by SKU, id, date, ...) collapse into one
// "dynamic" child that profiles every member value together (reported as additionalProperties
// and as the path `$.map.*`) plus a profile of the names themselves; the rule is in
// FieldNode::looks_dynamic and in docs/discovery.md.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/hyperloglog.h"
#include "common/status.h"
#include "json/value.h"

namespace canonry::schema {

inline constexpr size_t kTypeCount = static_cast<size_t>(json::Type::kMaxKey) + 1;

enum class StringFormat : uint8_t { kDateTime, kDate, kEmail, kUuid, kUri, kIpv4, kObjectIdHex };
inline constexpr size_t kFormatCount = 7;
// "date-time", "date", "email", "uuid", "uri", "ipv4", "objectid-hex"
std::string_view string_format_name(StringFormat format);
// The one format a string has, by cheap hand-written checks (no regex on the hot path).
std::optional<StringFormat> detect_string_format(std::string_view text);

struct ProfileOptions {
  // Exact value counts are kept while a path has at most this many distinct values.
  size_t exact_values = 100;
  // Entries reported in `top`.
  size_t top_entries = 10;
  // An object path with more distinct member names than this may be a map (see looks_dynamic).
  size_t dynamic_min_keys = 50;
  // ... and one with more than this is always treated as a map, which bounds memory.
  size_t dynamic_max_keys = 1000;
  // Strings are compared for min/max by at most this many leading bytes (cut at a character).
  size_t string_bound_bytes = 64;
};

// Counts of distinct scalar values: exact (value → count) up to a capacity, then a HyperLogLog
// sketch seeded with every value's hash seen so far.
class ValueCounter {
 public:
  struct Entry {
    uint64_t hash;
    uint64_t count;
    json::Type type;
    std::string payload;  // the value's identity bytes (see value_identity in profile.cpp)
  };

  void add(uint64_t hash, json::Type type, std::string_view payload, uint64_t weight,
           size_t capacity) {
    if (sketch_) {
      sketch_->add_hash(hash);
    } else {
      add_exact(hash, type, payload, weight, capacity);
    }
  }
  void merge(const ValueCounter& other, size_t capacity);
  bool exact() const { return sketch_ == nullptr; }
  // Exact while exact(), else the sketch's estimate, rounded.
  uint64_t distinct() const;
  const std::vector<Entry>& entries() const { return entries_; }
  const HyperLogLog* sketch() const { return sketch_.get(); }

 private:
  void add_exact(uint64_t hash, json::Type type, std::string_view payload, uint64_t weight,
                 size_t capacity);
  void overflow();
  void rebuild_slots(size_t capacity);
  std::vector<Entry> entries_;
  std::vector<uint32_t> slots_;  // open addressing: index + 1 into entries_, 0 when empty
  std::unique_ptr<HyperLogLog> sketch_;
};

// The least and greatest of the values added; merging adds the other side's bounds.
template <typename T>
struct Bounds {
  bool seen = false;
  T min = 0;
  T max = 0;
  void add(T v) {
    if (!seen) {
      seen = true;
      min = max = v;
    } else if (v < min) {
      min = v;
    } else if (v > max) {
      max = v;
    }
  }
  void merge(const Bounds& o) {
    if (!o.seen) return;
    add(o.min);
    add(o.max);
  }
  bool operator==(const Bounds&) const = default;
};
using MinMax = Bounds<int64_t>;
using DoubleMinMax = Bounds<double>;

// The statistics of one field path.
struct FieldStats {
  uint64_t count = 0;  // occurrences, nulls included
  std::array<uint64_t, kTypeCount> types{};
  MinMax integers;       // integer values (big integers go to `numbers`)
  DoubleMinMax numbers;  // number and finite decimal values
  MinMax dates;          // date values, epoch milliseconds
  bool strings_seen = false;
  std::string string_min, string_max;  // bounded prefixes, see ProfileOptions
  MinMax string_lengths;               // in Unicode code points
  std::array<uint64_t, kFormatCount> formats{};
  MinMax array_lengths;
  ValueCounter values;

  uint64_t of(json::Type t) const { return types[static_cast<size_t>(t)]; }
  uint64_t nulls() const { return of(json::Type::kNull); }
};

struct FieldNode {
  // The member name this node profiles (empty for the root, items and dynamic nodes).
  std::string name;
  FieldStats stats;
  // Object members in first-seen order (empty once the path is dynamic).
  std::vector<std::unique_ptr<FieldNode>> members;
  // Array elements, `[*]`.
  std::unique_ptr<FieldNode> items;
  // When the object's member names are data: every member value (`.*`), and the names.
  std::unique_ptr<FieldNode> dynamic_values;
  std::unique_ptr<FieldNode> dynamic_names;
  // Member occurrences over all objects at this path, and how many distinct names look like
  // data (contain a digit): the inputs of the dynamic-key rule.
  uint64_t member_occurrences = 0;
  uint64_t datalike_names = 0;

  bool is_dynamic() const { return dynamic_values != nullptr; }
  uint64_t objects() const { return stats.of(json::Type::kObject); }
  uint64_t arrays() const { return stats.of(json::Type::kArray); }
  const FieldNode* member(std::string_view name) const;
  // The dynamic-key rule, on the statistics gathered so far.
  bool looks_dynamic(const ProfileOptions& options) const;

  // Name lookup for wide objects, built once an object has many members; the views point into
  // the members' `name`, which never move because the nodes are heap-allocated.
  std::unordered_map<std::string_view, uint32_t> index;
};

class Profile {
 public:
  explicit Profile(ProfileOptions options = {});
  Profile(Profile&&) noexcept;
  Profile& operator=(Profile&&) noexcept;
  ~Profile();

  void add(const json::Value& document);
  // Adds everything `other` saw; both must have been built with the same options.
  void merge(const Profile& other);

  uint64_t documents() const { return root_->stats.count; }
  const FieldNode& root() const { return *root_; }
  const ProfileOptions& options() const { return options_; }

  // DESIGN 4.5 `--output profile`: one JSON line per field path, parents before children.
  void write_lines(std::string& out) const;

 private:
  ProfileOptions options_;
  std::unique_ptr<FieldNode> root_;
};

// Path text of a member name: `.name` when it is an identifier, else `['name']`.
void append_member_path(std::string& path, std::string_view name);
// The `x-profile` / profile-line statistics of one node (without `path`), as JSON members
// appended to an open object: "count", "presence", "types", "nulls", "distinct", "min", "max",
// "lengths", "formats", "top", "itemCounts".
void append_stats_members(std::string& out, const FieldNode& node, uint64_t parent_count,
                          const ProfileOptions& options);

}  // namespace canonry::schema
