// The schema registry behind the Confluent REST API (DESIGN 4.8): subjects, versions, global
// schema ids, compatibility levels and modes, kept in memory and written through to the durable
// Store. Thread-safe: reads share a lock, writes take it alone (one write at a time, each durable
// before it is answered). Errors carry Confluent's error codes, which are the API's contract.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/arena.h"
#include "common/status.h"
#include "registry/json_compatibility.h"
#include "registry/store.h"

namespace canonry::registry {

// A Confluent error: error_code 40401, 42201, 409, 50001...; the HTTP status is its first three
// digits (or the code itself when it has three).
struct ApiError {
  int error_code = 50001;
  std::string message;
  int http_status() const { return error_code >= 10000 ? error_code / 100 : error_code; }
};

template <typename T>
class Outcome {
 public:
  Outcome(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Outcome(ApiError error) : error_(std::move(error)) {}  // NOLINT
  bool ok() const { return value_.has_value(); }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  const ApiError& error() const { return error_; }

 private:
  std::optional<T> value_;
  ApiError error_;
};

struct Reference {
  std::string name;  // how the referring schema names it in a $ref
  std::string subject;
  int version = 0;
};

// A schema as a client sends it (POST /subjects/{s}/versions, lookups, compatibility checks).
struct SchemaRequest {
  std::string schema_type = "AVRO";  // Confluent's default when schemaType is absent
  std::string schema;
  std::vector<Reference> references;
  std::optional<int> id;       // only in IMPORT mode
  std::optional<int> version;  // only in IMPORT mode
};

struct SchemaEntry {
  int id = 0;
  std::string schema_type;
  std::string schema;  // canonical text
  std::vector<Reference> references;
  std::string references_json;
};

struct SubjectVersion {
  std::string subject;
  int version = 0;
  bool deleted = false;
  std::shared_ptr<const SchemaEntry> schema;
};

struct CompatibilityReport {
  bool compatible = true;
  std::vector<std::string> messages;  // Confluent's wording, for verbose answers and 409s
};

struct RegistryOptions {
  JsonPolicy json_policy = JsonPolicy::kStrict;
  std::string default_compatibility = "BACKWARD";
  // fsync every write before answering (survives power loss too), or leave the write-back to the
  // OS (survives kill -9 and crashes of the process; p99 registration under 5 ms on a shared
  // machine, where fsyncs take 1 to 20 ms: bench/registry).
  bool sync_commits = false;
};

// "NONE", "BACKWARD", ... in upper case when `text` names a level (any case); nullopt otherwise.
std::optional<std::string> parse_compatibility(std::string_view text);
// "READWRITE", "READONLY", "READONLY_OVERRIDE", "IMPORT".
std::optional<std::string> parse_mode(std::string_view text);

class AvroSchema;

class Registry {
 public:
  static Result<std::unique_ptr<Registry>> open(const std::string& data_dir,
                                                RegistryOptions options = {});

  Outcome<int> register_schema(const std::string& subject, SchemaRequest request, bool normalize);
  Outcome<SubjectVersion> lookup_schema(const std::string& subject, SchemaRequest request,
                                        bool normalize, bool deleted) const;
  Outcome<std::shared_ptr<const SchemaEntry>> schema_by_id(int id) const;
  // (subject, version) pairs that use the schema id.
  Outcome<std::vector<std::pair<std::string, int>>> usages_of_id(int id, bool deleted) const;
  std::vector<std::string> subjects(std::string_view prefix, bool deleted) const;
  // Every (latest only when asked) version under subjects starting with `prefix`.
  std::vector<SubjectVersion> schemas(std::string_view prefix, bool deleted,
                                      bool latest_only) const;
  Outcome<std::vector<int>> versions(const std::string& subject, bool deleted) const;
  // `version` is "latest", "-1" or a number.
  Outcome<SubjectVersion> version(const std::string& subject, std::string_view version,
                                  bool deleted) const;
  Outcome<std::vector<int>> referenced_by(const std::string& subject,
                                          std::string_view version) const;
  Outcome<std::vector<int>> delete_subject(const std::string& subject, bool permanent);
  Outcome<int> delete_version(const std::string& subject, std::string_view version, bool permanent);

  // subject nullptr: the global level.
  Outcome<std::string> compatibility(const std::string* subject, bool default_to_global) const;
  Outcome<std::string> set_compatibility(const std::string* subject, std::string_view level);
  Outcome<std::string> delete_compatibility(const std::string* subject);
  Outcome<std::string> mode(const std::string* subject, bool default_to_global) const;
  Outcome<std::string> set_mode(const std::string* subject, std::string_view mode, bool force);
  Outcome<std::string> delete_mode(const std::string* subject);

  // Against one version ("latest" or a number) or, without one, the versions the subject's level
  // names (the latest, or all for the transitive levels).
  Outcome<CompatibilityReport> check_compatibility(const std::string& subject,
                                                   std::optional<std::string_view> version,
                                                   SchemaRequest request, bool normalize) const;
  std::vector<std::string> schema_types() const { return {"AVRO", "JSON"}; }

 private:
  struct VersionSlot {
    int version;
    int schema_id;
    bool deleted;
  };
  struct Subject {
    std::vector<VersionSlot> versions;  // ascending
  };

  Registry(std::unique_ptr<Store> store, RegistryOptions options)
      : store_(std::move(store)), options_(std::move(options)) {}
  Status load();
  // Parses, checks and canonicalises a requested schema; the entry has no id yet.
  Outcome<SchemaEntry> prepare(const SchemaRequest& request, bool normalize) const;
  ExternalRefResolver reference_resolver(const SchemaEntry& entry, Arena& arena) const;
  // Compatibility of `candidate` with `existing` (oldest first) under `level`.
  CompatibilityReport check_against(const std::string& level,
                                    const std::vector<const SchemaEntry*>& existing,
                                    const SchemaEntry& candidate) const;
  // Confluent's messages for what a reader of `reader` cannot read of what `writer` wrote.
  std::vector<std::string> pair_incompatibilities(const SchemaEntry& writer,
                                                  const SchemaEntry& reader) const;
  // An Avro entry parsed with the named types of its references (kept alive in `holder`).
  Result<const AvroSchema*> avro_of(const SchemaEntry& entry,
                                    std::vector<std::unique_ptr<AvroSchema>>& holder, Arena& arena,
                                    int depth = 0) const;
  std::string effective_compatibility(const std::string& subject) const;
  std::string effective_mode(const std::string& subject) const;
  std::optional<ApiError> check_writable(const std::string& subject) const;
  const Subject* find_subject(const std::string& subject, bool deleted) const;
  Outcome<const VersionSlot*> find_version(const std::string& subject, std::string_view version,
                                           bool deleted) const;
  SubjectVersion make_version(const std::string& subject, const VersionSlot& slot) const;
  bool is_referenced(const std::string& subject, int version) const;
  static std::string fingerprint(const SchemaEntry& entry);

  std::unique_ptr<Store> store_;
  RegistryOptions options_;
  mutable std::shared_mutex mutex_;
  std::map<std::string, Subject, std::less<>> subjects_;
  std::unordered_map<int, std::shared_ptr<const SchemaEntry>> schemas_by_id_;
  std::unordered_map<std::string, int> id_by_fingerprint_;
  int max_id_ = 0;
  std::optional<std::string> global_compatibility_;
  std::optional<std::string> global_mode_;
  std::map<std::string, std::string, std::less<>> subject_compatibility_;
  std::map<std::string, std::string, std::less<>> subject_modes_;
};

}  // namespace canonry::registry
