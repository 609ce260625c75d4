#include "common/status.h"

namespace canonry {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kIo:
      return "io";
    case ErrorCode::kJsonSyntax:
      return "json_syntax";
    case ErrorCode::kJsonTruncated:
      return "json_truncated";
    case ErrorCode::kJsonUtf8:
      return "json_utf8";
    case ErrorCode::kJsonDepth:
      return "json_depth";
    case ErrorCode::kTooLarge:
      return "too_large";
    case ErrorCode::kBson:
      return "bson";
    case ErrorCode::kExtendedJson:
      return "extended_json";
    case ErrorCode::kEnvelope:
      return "envelope";
    case ErrorCode::kPathSyntax:
      return "path_syntax";
    case ErrorCode::kTransform:
      return "transform";
    case ErrorCode::kMissingKey:
      return "missing_key";
    case ErrorCode::kExpression:
      return "expression";
    case ErrorCode::kSpec:
      return "spec";
    case ErrorCode::kSchema:
      return "schema";
    case ErrorCode::kValidation:
      return "validation";
    case ErrorCode::kKafka:
      return "kafka";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kMetric:
      return "metric";
  }
  return "internal";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  std::string out(error_code_name(code_));
  out += ": ";
  out += message_;
  if (!path_.empty()) {
    out += " (at ";
    out += path_;
    out += ")";
  }
  return out;
}

}  // namespace canonry
