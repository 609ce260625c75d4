#include "mapping/dlq.h"

#include "common/base64.h"
#include "common/utf8.h"
#include "json/writer.h"

namespace canonry::mapping {

std::string_view step_name(Step step) {
  switch (step) {
    case Step::kDecode:
      return "decode";
    case Step::kMap:
      return "map";
    case Step::kValidate:
      return "validate";
    case Step::kSink:
      return "sink";
    case Step::kLate:
      return "late";
    case Step::kMetrics:
      return "metrics";
  }
  return "decode";
}

void append_dead_letter(std::string& out, const DeadLetter& letter) {
  json::Writer w(out);
  w.begin_object();
  w.key("error");
  w.begin_object();
  w.key("step");
  w.string(step_name(letter.step));
  w.key("code");
  w.string(error_code_name(letter.status->code()));
  w.key("message");
  w.string(letter.status->message());
  std::string_view path =
      letter.path.empty() ? std::string_view(letter.status->path()) : letter.path;
  if (!path.empty()) {
    w.key("path");
    w.string(path);
  }
  w.end_object();
  if (!letter.mapping_id.empty()) {
    w.key("mappingId");
    w.string(letter.mapping_id);
  }
  w.key("source");
  w.begin_object();
  w.key("uri");
  w.string(letter.position->source);
  w.key("position");
  w.string(letter.position->to_string());
  w.end_object();
  std::string_view raw = letter.raw;
  while (!raw.empty() && (raw.back() == '\n' || raw.back() == '\r')) raw.remove_suffix(1);
  w.key("raw");
  if (letter.raw_is_binary || !is_valid_utf8(raw)) {
    w.string(base64_encode(raw));
    w.key("rawEncoding");
    w.string("base64");
  } else {
    w.string(raw);
  }
  w.end_object();
  out += '\n';
}

}  // namespace canonry::mapping
