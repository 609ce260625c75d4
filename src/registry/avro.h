// Avro schemas for the registry: parsing and checking (named types, namespaces, defaults), and
// the schema resolution rules of the Avro specification as compatibility: what a reader schema
// cannot read of what a writer schema wrote, with the error types Confluent reports
// (NAME_MISMATCH, FIXED_SIZE_MISMATCH, MISSING_ENUM_SYMBOLS, READER_FIELD_MISSING_DEFAULT_VALUE,
// TYPE_MISMATCH, MISSING_UNION_BRANCH).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "json/value.h"

namespace canonry::registry {

struct AvroNode;

// A parsed Avro schema; owns its nodes. Named types may refer to each other (recursion).
class AvroSchema {
 public:
  AvroSchema();
  ~AvroSchema();
  AvroSchema(AvroSchema&&) noexcept;
  AvroSchema& operator=(AvroSchema&&) noexcept;
  const AvroNode* root() const { return root_; }

 private:
  friend class AvroParser;
  std::vector<std::unique_ptr<AvroNode>> nodes_;
  const AvroNode* root_ = nullptr;
};

// Parses `schema` (a JSON string, object or array). `referenced` are schemas whose named types
// it may use by name (Confluent references). kSchema errors say what is wrong and where.
Result<AvroSchema> parse_avro(const json::Value& schema,
                              const std::vector<const AvroSchema*>& referenced = {});

struct AvroIncompatibility {
  std::string type;  // READER_FIELD_MISSING_DEFAULT_VALUE, ...
  std::string path;  // "/fields/1/type"
  std::string description;
};

// What a reader of `reader` cannot read of data written with `writer`.
std::vector<AvroIncompatibility> avro_incompatibilities(const AvroSchema& writer,
                                                        const AvroSchema& reader);

// Confluent's message for one: "{errorType:'TYPE_MISMATCH', description:'...', ...}".
std::string avro_incompatibility_message(const AvroIncompatibility& incompatibility);

}  // namespace canonry::registry
