// The readers of the text formats (json, debezium, kcat): framing of the input into documents
// (JSON lines, concatenated documents, one top-level array) and decoding of each document.
#pragma once

#include <memory>
#include <string>

#include "formats/byte_source.h"
#include "formats/reader.h"

namespace canonry::formats {

// Resumable scan for the end of one JSON document that starts at a non-blank byte: containers
// are tracked by depth outside strings, a string ends at its closing quote, any other token at
// white space or a structural character.
struct DocumentScan {
  size_t pos = 0;  // bytes scanned so far, from the document's first byte
  int64_t newlines = 0;
  uint32_t depth = 0;
  bool in_string = false;
  bool escaped = false;

  // Scans text[pos, size) and returns true once the document ends, at text[0, pos).
  bool advance(const char* text, size_t size);
};

// Takes over `source` positioned at the start of the input (after a BOM, if any). With
// Format::kAuto the format is recognised from the first documents; an error when it is not JSON
// text at all.
Result<std::unique_ptr<RecordReader>> open_text_reader(std::unique_ptr<ByteSource> source,
                                                       const std::string& path,
                                                       const ReaderOptions& options);

}  // namespace canonry::formats
