// BSON documents to json::Value, with libbson's iterator: every BSON type maps onto the value
// model of DESIGN 4.2, the deprecated ones onto their nearest current type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/arena.h"
#include "common/status.h"
#include "formats/byte_source.h"
#include "formats/reader.h"
#include "json/value.h"

namespace canonry::formats {

// Decodes one complete BSON document (its int32 length prefix included). Strings and keys are
// copied into `arena`. kBson when the bytes are not a valid document, kJsonUtf8 for invalid UTF-8,
// kJsonDepth past `max_depth` levels of nesting.
Result<json::Value> bson_to_value(const uint8_t* data, size_t size, Arena& arena, size_t max_depth);

// True when `data` starts with what can only be a BSON document: a plausible length prefix, a
// valid first element header and, when it is all there, the terminating zero (used by format
// auto-detection; JSON text never starts with the zero bytes of a length prefix).
bool looks_like_bson(const char* data, size_t size);

// A mongodump .bson file: concatenated documents.
std::unique_ptr<RecordReader> make_bson_reader(std::unique_ptr<ByteSource> source,
                                               const std::string& path,
                                               const ReaderOptions& options);

}  // namespace canonry::formats
