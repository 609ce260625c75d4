// The window operator: one metric's partial aggregates for one source partition (or one input
// file, or one chunk of one), keyed by window and dimension values. The batch command and the
// pipeline's metrics sink both drive it, so the same records give the same rows either way.
//
// Event time comes from the spec's `time` path. Windows are aligned to the Unix epoch; a record
// at t falls in every window [s, s + size) with s a multiple of the slide and s <= t < s + size.
// The watermark is the largest event time seen minus `lateness`: a window whose end is at or
// before it is closed, and a record whose windows are all closed is late (the caller sends it to
// the DLQ with step `late`).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "json/value.h"
#include "metrics/aggregates.h"
#include "metrics/spec.h"

namespace canonry::metrics {

class WindowOperator {
 public:
  enum class Outcome {
    kAdded,  // aggregated into at least one open window
    kLate,   // every window of the record is closed
    kError,  // the record cannot be aggregated: `error` says why and where
  };

  // `spec` must outlive the operator.
  explicit WindowOperator(const MetricSpec& spec);
  WindowOperator(const WindowOperator&) = delete;
  WindowOperator& operator=(const WindowOperator&) = delete;

  const MetricSpec& spec() const { return spec_; }

  // Adds one canonical record.
  Outcome add(const json::Value& record, Status& error);
  // The event time of the last record add() saw (valid unless it returned kError for want of
  // one), and the end of its latest window: what a late record is filed under.
  int64_t last_event_time() const { return last_time_; }
  int64_t last_latest_window_end() const { return last_latest_end_; }

  // The largest event time added so far, nullopt before the first record.
  std::optional<int64_t> max_event_time() const { return max_time_; }
  // Lets the watermark start from a previous run's (a restarted pipeline).
  void observe_event_time(int64_t time);

  // Merges every group of `other` (an operator of the same spec) into this one.
  void merge(const WindowOperator& other);
  // Drops the groups of windows that end at or before `end` (their records were late for a
  // later part of the same input, see the batch driver).
  void drop_windows_ending_by(int64_t end);

  size_t group_count() const { return groups_.size(); }
  int64_t window_start(uint32_t group) const { return groups_[group].window_start; }
  int64_t window_end(uint32_t group) const { return groups_[group].window_start + spec_.size_ms; }
  // Groups sorted by window start, then dimension values (null, booleans, numbers by value,
  // strings, then anything else by its JSON text).
  std::vector<uint32_t> sorted_groups() const;
  // {"region":"eu","status":"paid"}: the group's dimension values as a JSON object.
  std::string dimensions_json(uint32_t group) const;
  // The partial aggregate of every measure, serialised (what stores keep).
  std::string serialize_state(uint32_t group) const;
  // Merges a stored partial into the operator; an error when the bytes or the dimensions are
  // not those of this spec.
  Status merge_partial(int64_t window_start, std::string_view dimensions_json,
                       std::string_view state);

  // One row of DESIGN 4.6 as a JSON line (newline included).
  void append_row(uint32_t group, std::string& out) const;
  void append_rows(std::string& out) const;

  // Groups changed since the last take_changed_groups() (for sinks that write what changed), and
  // marking them changed again when writing them failed.
  std::vector<uint32_t> take_changed_groups();
  void mark_changed(uint32_t group);

 private:
  struct Group {
    int64_t window_start;
    uint64_t hash;
    // 8 bytes of window start, then each dimension's JSON text, '\n' between; in key_blocks_.
    std::string_view key;
  };

  uint32_t group_for(std::string_view key, int64_t window_start);
  std::string_view store_key(std::string_view key);
  void grow_index();

  // A singular path read from many records of the same shape: a path of plain member names
  // remembers at which member index each name was found last time and looks there first
  // (canonical records have their members in one order), else it asks the JsonPath.
  struct FieldReader {
    const jsonpath::JsonPath* path = nullptr;
    std::vector<std::string> names;  // empty: not a plain chain of names
    std::vector<uint32_t> hints;
    bool plain = false;
    const json::Value* read(const json::Value& root);
  };
  static FieldReader reader_for(const std::string& text, const jsonpath::JsonPath& path);

  const MetricSpec& spec_;
  FieldReader time_reader_;
  std::vector<FieldReader> dimension_readers_;
  std::vector<FieldReader> measure_readers_;
  std::vector<FieldReader> unnest_readers_;
  std::vector<std::unique_ptr<MeasureColumn>> columns_;
  // For each measure, the measure whose input it takes: itself, or an earlier one reading the
  // same field the same way (numbers), so that the field is read and converted once.
  std::vector<size_t> input_of_;
  std::vector<Group> groups_;
  // Open addressing, linear probing, at most half full. A slot holds a group id in its low 32
  // bits and the high 32 bits of the group's hash as a tag, so that probing past other groups
  // (most of a new group's probe) reads only this array, not the groups and their keys.
  static constexpr uint64_t kEmptySlot = UINT64_MAX;
  static constexpr uint64_t kTagMask = 0xffffffff00000000u;
  static uint64_t slot_of(uint64_t hash, uint32_t id) { return (hash & kTagMask) | id; }
  std::vector<uint64_t> slots_;
  // Group keys, in blocks that never move (groups_ holds views into them).
  std::vector<std::unique_ptr<char[]>> key_blocks_;
  size_t key_block_used_ = 0;
  size_t key_block_size_ = 0;
  std::optional<int64_t> max_time_;
  int64_t last_time_ = 0;
  int64_t last_latest_end_ = 0;
  std::vector<uint8_t> changed_flags_;
  std::vector<uint32_t> changed_;
  // Rows: `,"name":` of each dimension and measure, and the text of the last row's window
  // (metric, window start and end), which the next rows of the same window reuse.
  std::vector<std::string> dimension_labels_;
  std::vector<std::string> measure_labels_;
  mutable int64_t row_window_start_ = 0;
  mutable std::string row_window_text_;

  // Scratch reused across records.
  std::vector<std::vector<const json::Value*>> elements_;  // per unnest
  std::vector<size_t> cursor_;                             // per unnest
  std::vector<std::string> combo_keys_;                    // per combination: dimension texts
  std::vector<MeasureInput> inputs_;                       // per combination × measure
  std::vector<int64_t> open_windows_;
  std::string key_;
};

}  // namespace canonry::metrics
