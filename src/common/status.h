// Status and Result<T>: how every hot-path function reports failure. Errors carry a stable code
// (part of the DLQ contract, DESIGN 4.4), a message for people, and optionally where it happened.
// Exceptions are reserved for configuration errors at start-up (ConfigError).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace canonry {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,  // a caller passed something malformed (usage, options)
  kIo,               // reading or writing a file failed
  kJsonSyntax,       // the bytes are not JSON
  kJsonTruncated,    // the document ends before it is complete
  kJsonUtf8,         // invalid UTF-8
  kJsonDepth,        // nesting deeper than the configured limit
  kTooLarge,         // a document larger than the configured limit
  kBson,             // malformed BSON
  kExtendedJson,     // a $-wrapper with the wrong shape ({"$oid": 5})
  kEnvelope,         // a Debezium / kcat envelope without what it must have
  kPathSyntax,       // a JSONPath or target path that does not parse
  kTransform,        // a transform could not convert a value
  kMissingKey,       // the record has no key where one is required
  kExpression,       // an expression failed to compile or to evaluate
  kSpec,             // a mapping spec is wrong
  kSchema,           // a schema is wrong
  kValidation,       // a record breaks its schema
  kKafka,            // the Kafka client or a broker reported an error
  kInternal,
  kMetric,  // a record a metric cannot aggregate (no event time, a string where a sum needs a
            // number)
};

// Stable, documented names of the codes; they appear in DLQ records and must not change.
std::string_view error_code_name(ErrorCode code);

class Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message, std::string path = {})
      : code_(code), message_(std::move(message)), path_(std::move(path)) {}

  static Status ok() { return {}; }
  bool is_ok() const { return code_ == ErrorCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Where in the document (a JSONPath or JSON pointer) the error was found, when known.
  const std::string& path() const { return path_; }
  Status& with_path(std::string path) {
    path_ = std::move(path);
    return *this;
  }
  std::string to_string() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  std::string path_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT
  Result(ErrorCode code, std::string message) : status_(code, std::move(message)) {}

  bool is_ok() const { return value_.has_value(); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const { return status_; }
  Status take_status() { return std::move(status_); }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

// Thrown only while loading configuration or specs, before any record is processed.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace canonry

#define CANONRY_RETURN_IF_ERROR(expr)                     \
  do {                                                    \
    ::canonry::Status canonry_status_ = (expr);           \
    if (!canonry_status_.is_ok()) return canonry_status_; \
  } while (0)
