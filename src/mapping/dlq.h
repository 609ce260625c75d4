// Dead-letter records (DESIGN 4.4): one JSON line per record that failed, with the step, the
// stable error code, the reason, where in the document, the mapping, where the record came from
// and its original bytes.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "formats/record.h"

namespace canonry::mapping {

enum class Step { kDecode, kMap, kValidate, kSink, kLate, kMetrics };
std::string_view step_name(Step step);

struct DeadLetter {
  Step step = Step::kDecode;
  const Status* status = nullptr;
  std::string_view path;        // "$.line_items[2].quantity", empty when not about one field
  std::string_view mapping_id;  // empty when unknown (decode errors before a mapping)
  const formats::Position* position = nullptr;
  std::string_view raw;
  bool raw_is_binary = false;
};

// Appends the DLQ line (with its newline) to `out`. Raw bytes that are binary or not valid UTF-8
// are written in base64 with "rawEncoding": "base64", so that the line stays valid JSON.
void append_dead_letter(std::string& out, const DeadLetter& letter);

}  // namespace canonry::mapping
