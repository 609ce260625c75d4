#include "registry/registry.h"

#include <algorithm>
#include <charconv>
#include <mutex>
#include <set>

#include "json/parser.h"
#include "json/writer.h"
#include "registry/avro.h"
#include "schema/validator.h"

namespace canonry::registry {

namespace {

using json::Value;

constexpr std::string_view kLevels[] = {
    "NONE", "BACKWARD",       "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE",
    "FULL", "FULL_TRANSITIVE"};
constexpr std::string_view kModes[] = {"READWRITE", "READONLY", "READONLY_OVERRIDE", "IMPORT"};

// The base URI relative $refs of a registered schema resolve against when it has no $id; a
// reference named "address.json" is then asked for as kReferenceBase + "address.json".
constexpr std::string_view kReferenceBase = "https://canonry.invalid/schemas/";

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Compact JSON; with `sort`, object members in key order at every depth (Confluent's
// `normalize`), so that schemas differing only in member order get one id.
void append_canonical(std::string& out, const Value& value, bool sort) {
  if (value.is_object()) {
    std::vector<const json::Member*> members;
    for (const auto& member : value.members()) members.push_back(&member);
    if (sort) {
      std::stable_sort(
          members.begin(), members.end(),
          [](const json::Member* a, const json::Member* b) { return a->key < b->key; });
    }
    out += '{';
    for (size_t i = 0; i < members.size(); ++i) {
      if (i) out += ',';
      json::append_quoted(out, members[i]->key);
      out += ':';
      append_canonical(out, members[i]->value, sort);
    }
    out += '}';
  } else if (value.is_array()) {
    out += '[';
    bool first = true;
    for (const Value& item : value.items()) {
      if (!first) out += ',';
      first = false;
      append_canonical(out, item, sort);
    }
    out += ']';
  } else {
    json::append_value(out, value);
  }
}

std::string references_to_json(const std::vector<Reference>& references) {
  std::string out;
  json::Writer writer(out);
  writer.begin_array();
  for (const Reference& reference : references) {
    writer.begin_object();
    writer.key("name");
    writer.string(reference.name);
    writer.key("subject");
    writer.string(reference.subject);
    writer.key("version");
    writer.raw(std::to_string(reference.version));
    writer.end_object();
  }
  writer.end_array();
  return out;
}

std::vector<Reference> references_from_json(std::string_view text) {
  std::vector<Reference> references;
  Arena arena;
  auto parsed = json::parse(text, arena);
  if (!parsed || !parsed->is_array()) return references;
  for (const Value& item : parsed->items()) {
    Reference reference;
    if (const Value* v = item.find("name"); v && v->is_string()) reference.name = v->as_string();
    if (const Value* v = item.find("subject"); v && v->is_string()) {
      reference.subject = v->as_string();
    }
    if (const Value* v = item.find("version"); v && v->is_integer()) {
      reference.version = static_cast<int>(v->as_int());
    }
    references.push_back(std::move(reference));
  }
  return references;
}

// "latest" / "-1" → -1; a positive number → itself; anything else → nullopt.
std::optional<int> parse_version(std::string_view text) {
  if (text == "latest" || text == "-1") return -1;
  int version = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (error != std::errc() || end != text.data() + text.size() || version <= 0) {
    return std::nullopt;
  }
  return version;
}

ApiError invalid_version(std::string_view text) {
  return {42202, "The specified version '" + std::string(text) +
                     "' is not a valid version id. Allowed values are between [1, 2^31-1] and "
                     "the string \"latest\""};
}

ApiError subject_not_found(std::string_view subject) {
  return {40401, "Subject '" + std::string(subject) + "' not found."};
}

ApiError store_error(const Status& status) {
  return {50001, "Error in the backend data store: " + status.message()};
}

// Whether `uri` (as the validator asks for it, or a $ref as written) names `reference`.
bool names_reference(std::string_view uri, std::string_view name) {
  if (uri == name) return true;
  if (uri.size() > name.size() && uri.substr(uri.size() - name.size()) == name &&
      uri[uri.size() - name.size() - 1] == '/') {
    return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> parse_compatibility(std::string_view text) {
  std::string level = upper(text);
  for (std::string_view known : kLevels) {
    if (level == known) return level;
  }
  return std::nullopt;
}

std::optional<std::string> parse_mode(std::string_view text) {
  std::string mode = upper(text);
  for (std::string_view known : kModes) {
    if (mode == known) return mode;
  }
  return std::nullopt;
}

std::vector<std::string> Registry::pair_incompatibilities(const SchemaEntry& writer,
                                                          const SchemaEntry& reader) const {
  std::vector<std::string> messages;
  if (writer.schema_type != reader.schema_type) {
    messages.push_back("Incompatible schema type: " + reader.schema_type + " cannot read " +
                       writer.schema_type);
    return messages;
  }
  Arena arena;
  if (writer.schema_type == "AVRO") {
    std::vector<std::unique_ptr<AvroSchema>> holder;
    auto writer_schema = avro_of(writer, holder, arena);
    auto reader_schema = avro_of(reader, holder, arena);
    if (!writer_schema || !reader_schema) {
      messages.push_back("a stored Avro schema no longer parses");
      return messages;
    }
    for (const auto& found : avro_incompatibilities(**writer_schema, **reader_schema)) {
      messages.push_back(avro_incompatibility_message(found));
    }
    return messages;
  }
  auto writer_value = json::parse(writer.schema, arena);
  auto reader_value = json::parse(reader.schema, arena);
  if (!writer_value || !reader_value) {
    messages.push_back("a stored JSON Schema no longer parses");
    return messages;
  }
  SchemaEntry both;
  both.references = writer.references;
  both.references.insert(both.references.end(), reader.references.begin(), reader.references.end());
  for (const Difference& difference : json_incompatibilities(
           *writer_value, *reader_value, options_.json_policy, reference_resolver(both, arena))) {
    messages.push_back(difference_message(difference));
  }
  return messages;
}

CompatibilityReport Registry::check_against(const std::string& level,
                                            const std::vector<const SchemaEntry*>& existing,
                                            const SchemaEntry& candidate) const {
  CompatibilityReport report;
  if (level == "NONE" || existing.empty()) return report;
  bool transitive = level.find("_TRANSITIVE") != std::string::npos;
  bool backward = level.rfind("BACKWARD", 0) == 0 || level.rfind("FULL", 0) == 0;
  bool forward = level.rfind("FORWARD", 0) == 0 || level.rfind("FULL", 0) == 0;
  // Newest first, as Confluent reports them; only the latest unless transitive.
  for (auto it = existing.rbegin(); it != existing.rend(); ++it) {
    std::vector<std::string> found;
    if (backward) found = pair_incompatibilities(**it, candidate);
    if (forward) {
      auto reverse = pair_incompatibilities(candidate, **it);
      found.insert(found.end(), reverse.begin(), reverse.end());
    }
    if (!found.empty()) {
      report.compatible = false;
      report.messages.insert(report.messages.end(), found.begin(), found.end());
      report.messages.push_back("{oldSchema: '" + (*it)->schema + "'}");
      report.messages.push_back("{compatibility: '" + level + "'}");
    }
    if (!transitive) break;
  }
  return report;
}

Result<const AvroSchema*> Registry::avro_of(const SchemaEntry& entry,
                                            std::vector<std::unique_ptr<AvroSchema>>& holder,
                                            Arena& arena, int depth) const {
  if (depth > 32) return Status(ErrorCode::kSchema, "references nested deeper than 32 levels");
  std::vector<const AvroSchema*> referenced;
  for (const Reference& reference : entry.references) {
    auto slot = find_version(reference.subject, std::to_string(reference.version), true);
    if (!slot.ok()) {
      return Status(ErrorCode::kSchema, "reference " + reference.name + " does not exist");
    }
    auto& target = schemas_by_id_.at(slot.value()->schema_id);
    if (target->schema_type != "AVRO") {
      return Status(ErrorCode::kSchema, "reference " + reference.name + " is not an Avro schema");
    }
    auto parsed = avro_of(*target, holder, arena, depth + 1);
    if (!parsed) return parsed.status();
    referenced.push_back(*parsed);
  }
  auto value = json::parse(entry.schema, arena);
  if (!value) return value.status();
  auto schema = parse_avro(*value, referenced);
  if (!schema) return schema.status();
  holder.push_back(std::make_unique<AvroSchema>(std::move(*schema)));
  return holder.back().get();
}

Result<std::unique_ptr<Registry>> Registry::open(const std::string& data_dir,
                                                 RegistryOptions options) {
  if (!parse_compatibility(options.default_compatibility)) {
    return Status(ErrorCode::kInvalidArgument,
                  "unknown compatibility level '" + options.default_compatibility + "'");
  }
  auto store = Store::open(data_dir, options.sync_commits);
  if (!store) return store.status();
  std::unique_ptr<Registry> registry(new Registry(std::move(*store), std::move(options)));
  CANONRY_RETURN_IF_ERROR(registry->load());
  return registry;
}

Status Registry::load() {
  auto state = store_->load();
  if (!state) return state.status();
  for (StoredSchema& stored : state->schemas) {
    auto entry = std::make_shared<SchemaEntry>();
    entry->id = stored.id;
    entry->schema_type = std::move(stored.schema_type);
    entry->schema = std::move(stored.schema);
    entry->references_json = std::move(stored.references_json);
    entry->references = references_from_json(entry->references_json);
    id_by_fingerprint_[fingerprint(*entry)] = entry->id;
    max_id_ = std::max(max_id_, entry->id);
    schemas_by_id_[entry->id] = std::move(entry);
  }
  for (const StoredVersion& version : state->versions) {
    subjects_[version.subject].versions.push_back(
        {version.version, version.schema_id, version.deleted});
  }
  for (const StoredSetting& setting : state->compatibility) {
    if (setting.subject.empty()) {
      global_compatibility_ = setting.value;
    } else {
      subject_compatibility_[setting.subject] = setting.value;
    }
  }
  for (const StoredSetting& setting : state->modes) {
    if (setting.subject.empty()) {
      global_mode_ = setting.value;
    } else {
      subject_modes_[setting.subject] = setting.value;
    }
  }
  return Status::ok();
}

std::string Registry::fingerprint(const SchemaEntry& entry) {
  return entry.schema_type + '\n' + entry.references_json + '\n' + entry.schema;
}

Outcome<SchemaEntry> Registry::prepare(const SchemaRequest& request, bool normalize) const {
  SchemaEntry entry;
  entry.schema_type = upper(request.schema_type);
  if (entry.schema_type != "JSON" && entry.schema_type != "AVRO") {
    return ApiError{42201, "Invalid schema: schema type " + entry.schema_type +
                               " is not supported; this registry holds JSON and AVRO schemas"};
  }
  // Every reference must name a registered version; collect them and theirs, for $refs.
  for (const Reference& reference : request.references) {
    if (reference.name.empty() || reference.subject.empty()) {
      return ApiError{42201, "Invalid schema: a reference needs a name and a subject"};
    }
    auto slot =
        find_version(reference.subject,
                     reference.version <= 0 ? "latest" : std::to_string(reference.version), false);
    if (!slot.ok()) {
      return ApiError{42201, "Invalid schema: reference '" + reference.name + "' names subject '" +
                                 reference.subject + "' version " +
                                 std::to_string(reference.version) + ", which does not exist"};
    }
    Reference resolved = reference;
    resolved.version = slot.value()->version;
    entry.references.push_back(std::move(resolved));
  }
  entry.references_json = references_to_json(entry.references);

  Arena arena;
  json::ParseOptions parse_options;
  parse_options.extended_json = false;
  auto parsed = json::parse(request.schema, arena, parse_options);
  if (!parsed) {
    return ApiError{42201, "Invalid schema: not JSON: " + parsed.status().to_string()};
  }
  append_canonical(entry.schema, *parsed, normalize);
  if (entry.schema_type == "AVRO") {
    std::vector<std::unique_ptr<AvroSchema>> holder;
    Arena avro_arena;
    auto avro = avro_of(entry, holder, avro_arena);
    if (!avro) return ApiError{42201, "Invalid schema: " + avro.status().message()};
    return entry;
  }
  if (!parsed->is_object() && !parsed->is_bool()) {
    return ApiError{42201, "Invalid schema: a JSON Schema is an object or a boolean"};
  }

  schema::ValidatorOptions validator_options;
  validator_options.base_uri = std::string(kReferenceBase) + "root.json";
  std::vector<std::shared_ptr<const SchemaEntry>> referenced = [&] {
    std::vector<std::shared_ptr<const SchemaEntry>> all;
    std::set<int> seen;
    std::vector<Reference> pending = entry.references;
    while (!pending.empty()) {
      Reference reference = pending.back();
      pending.pop_back();
      auto it = subjects_.find(reference.subject);
      if (it == subjects_.end()) continue;
      for (const VersionSlot& slot : it->second.versions) {
        if (slot.version != reference.version || !seen.insert(slot.schema_id).second) continue;
        auto schema = schemas_by_id_.at(slot.schema_id);
        all.push_back(schema);
        pending.insert(pending.end(), schema->references.begin(), schema->references.end());
      }
    }
    return all;
  }();
  std::vector<std::pair<std::string, std::string>> named;  // reference name → schema text
  for (const Reference& reference : entry.references) {
    auto slot = find_version(reference.subject, std::to_string(reference.version), true);
    if (slot.ok())
      named.emplace_back(reference.name, schemas_by_id_.at(slot.value()->schema_id)->schema);
  }
  for (const auto& schema : referenced) {
    for (const Reference& reference : schema->references) {
      auto slot = find_version(reference.subject, std::to_string(reference.version), true);
      if (slot.ok()) {
        named.emplace_back(reference.name, schemas_by_id_.at(slot.value()->schema_id)->schema);
      }
    }
  }
  validator_options.resolve_remote = [named](std::string_view uri) -> Result<std::string> {
    for (const auto& [name, text] : named) {
      if (names_reference(uri, name)) return text;
    }
    return Status(ErrorCode::kSchema, "no reference named " + std::string(uri));
  };
  auto compiled = schema::Validator::compile(*parsed, validator_options);
  if (!compiled) {
    return ApiError{42201, "Invalid schema: " + compiled.status().to_string()};
  }
  return entry;
}

ExternalRefResolver Registry::reference_resolver(const SchemaEntry& entry, Arena& arena) const {
  auto documents = std::make_shared<std::vector<std::pair<std::string, Value>>>();
  std::vector<Reference> pending = entry.references;
  std::set<std::pair<std::string, int>> seen;
  while (!pending.empty()) {
    Reference reference = pending.back();
    pending.pop_back();
    if (!seen.insert({reference.subject, reference.version}).second) continue;
    auto it = subjects_.find(reference.subject);
    if (it == subjects_.end()) continue;
    for (const VersionSlot& slot : it->second.versions) {
      if (slot.version != reference.version) continue;
      const auto& schema = schemas_by_id_.at(slot.schema_id);
      auto parsed = json::parse(schema->schema, arena);
      if (parsed) documents->emplace_back(reference.name, *parsed);
      pending.insert(pending.end(), schema->references.begin(), schema->references.end());
    }
  }
  if (documents->empty()) return {};
  return [documents](std::string_view ref) -> const Value* {
    for (const auto& [name, value] : *documents) {
      if (names_reference(ref, name)) return &value;
    }
    return nullptr;
  };
}

std::string Registry::effective_compatibility(const std::string& subject) const {
  if (auto it = subject_compatibility_.find(subject); it != subject_compatibility_.end()) {
    return it->second;
  }
  return global_compatibility_.value_or(options_.default_compatibility);
}

std::string Registry::effective_mode(const std::string& subject) const {
  if (auto it = subject_modes_.find(subject); it != subject_modes_.end()) return it->second;
  return global_mode_.value_or("READWRITE");
}

std::optional<ApiError> Registry::check_writable(const std::string& subject) const {
  std::string mode = effective_mode(subject);
  if (mode == "READONLY" || mode == "READONLY_OVERRIDE") {
    return ApiError{42205, "Subject " + subject + " is in read-only mode"};
  }
  return std::nullopt;
}

const Registry::Subject* Registry::find_subject(const std::string& subject, bool deleted) const {
  auto it = subjects_.find(subject);
  if (it == subjects_.end()) return nullptr;
  for (const VersionSlot& slot : it->second.versions) {
    if (deleted || !slot.deleted) return &it->second;
  }
  return nullptr;
}

Outcome<const Registry::VersionSlot*> Registry::find_version(const std::string& subject,
                                                             std::string_view version,
                                                             bool deleted) const {
  auto wanted = parse_version(version);
  if (!wanted) return invalid_version(version);
  const Subject* found = find_subject(subject, deleted);
  if (!found) return subject_not_found(subject);
  const VersionSlot* match = nullptr;
  for (const VersionSlot& slot : found->versions) {
    if (slot.deleted && !deleted) continue;
    if (*wanted == -1 || slot.version == *wanted) match = &slot;
  }
  if (!match) return ApiError{40402, "Version " + std::string(version) + " not found."};
  return match;
}

SubjectVersion Registry::make_version(const std::string& subject, const VersionSlot& slot) const {
  return {subject, slot.version, slot.deleted, schemas_by_id_.at(slot.schema_id)};
}

bool Registry::is_referenced(const std::string& subject, int version) const {
  for (const auto& [name, entry] : subjects_) {
    for (const VersionSlot& slot : entry.versions) {
      if (slot.deleted) continue;
      for (const Reference& reference : schemas_by_id_.at(slot.schema_id)->references) {
        if (reference.subject == subject && reference.version == version) return true;
      }
    }
  }
  return false;
}

Outcome<int> Registry::register_schema(const std::string& subject, SchemaRequest request,
                                       bool normalize) {
  std::unique_lock lock(mutex_);
  if (auto error = check_writable(subject)) return *error;
  bool importing = effective_mode(subject) == "IMPORT";
  if ((request.id || request.version) && !importing) {
    // Confluent accepts an id outside IMPORT mode only when it is the one the schema has.
    if (request.version || !request.id) {
      return ApiError{42205, "Operation not permitted: a version can only be given in IMPORT mode"};
    }
  }
  auto prepared = prepare(request, normalize);
  if (!prepared.ok()) return prepared.error();
  SchemaEntry& entry = prepared.value();
  std::string key = fingerprint(entry);
  auto known = id_by_fingerprint_.find(key);

  Subject& slots = subjects_[subject];
  if (known != id_by_fingerprint_.end()) {
    for (const VersionSlot& slot : slots.versions) {
      if (!slot.deleted && slot.schema_id == known->second) return known->second;  // idempotent
    }
  }
  if (request.id && known != id_by_fingerprint_.end() && known->second != *request.id) {
    return ApiError{42207, "Schema already registered with id " + std::to_string(known->second) +
                               " instead of input id " + std::to_string(*request.id)};
  }
  if (request.id && known == id_by_fingerprint_.end() && schemas_by_id_.count(*request.id)) {
    return ApiError{42207, "Overwrite new schema with id " + std::to_string(*request.id) +
                               " is not permitted."};
  }
  if (request.id && !importing && known == id_by_fingerprint_.end()) {
    return ApiError{42205, "Operation not permitted: an id can only be given in IMPORT mode"};
  }

  if (!importing) {
    std::vector<const SchemaEntry*> existing;
    for (const VersionSlot& slot : slots.versions) {
      if (!slot.deleted) existing.push_back(schemas_by_id_.at(slot.schema_id).get());
    }
    CompatibilityReport report = check_against(effective_compatibility(subject), existing, entry);
    if (!report.compatible) {
      std::string details;
      for (const std::string& message : report.messages) {
        if (!details.empty()) details += ", ";
        details += message;
      }
      if (slots.versions.empty()) subjects_.erase(subject);
      return ApiError{409,
                      "Schema being registered is incompatible with an earlier schema for "
                      "subject \"" +
                          subject + "\", details: [" + details + "]"};
    }
  }

  int next_version = slots.versions.empty() ? 1 : slots.versions.back().version + 1;
  int version = request.version.value_or(next_version);
  for (const VersionSlot& slot : slots.versions) {
    if (slot.version == version) {
      return ApiError{42201, "Invalid schema: version " + std::to_string(version) +
                                 " already exists in subject " + subject};
    }
  }
  bool new_schema = known == id_by_fingerprint_.end();
  entry.id = new_schema ? request.id.value_or(max_id_ + 1) : known->second;
  std::optional<StoredSchema> stored;
  if (new_schema) {
    stored = StoredSchema{entry.id, entry.schema_type, entry.schema, entry.references_json};
  }
  if (Status written = store_->add_version(stored, {subject, version, entry.id, false}); !written) {
    if (slots.versions.empty()) subjects_.erase(subject);
    return store_error(written);
  }
  int id = entry.id;
  if (new_schema) {
    id_by_fingerprint_[key] = id;
    max_id_ = std::max(max_id_, id);
    schemas_by_id_[id] = std::make_shared<SchemaEntry>(std::move(entry));
  }
  slots.versions.push_back({version, id, false});
  std::sort(slots.versions.begin(), slots.versions.end(),
            [](const VersionSlot& a, const VersionSlot& b) { return a.version < b.version; });
  return id;
}

Outcome<SubjectVersion> Registry::lookup_schema(const std::string& subject, SchemaRequest request,
                                                bool normalize, bool deleted) const {
  std::shared_lock lock(mutex_);
  const Subject* found = find_subject(subject, deleted);
  if (!found) return subject_not_found(subject);
  auto prepared = prepare(request, normalize);
  if (!prepared.ok()) return prepared.error();
  auto known = id_by_fingerprint_.find(fingerprint(prepared.value()));
  if (known != id_by_fingerprint_.end()) {
    const VersionSlot* match = nullptr;
    for (const VersionSlot& slot : found->versions) {
      if (slot.schema_id == known->second && (deleted || !slot.deleted)) match = &slot;
    }
    if (match) return make_version(subject, *match);
  }
  return ApiError{40403, "Schema not found"};
}

Outcome<std::shared_ptr<const SchemaEntry>> Registry::schema_by_id(int id) const {
  std::shared_lock lock(mutex_);
  auto it = schemas_by_id_.find(id);
  if (it == schemas_by_id_.end())
    return ApiError{40403, "Schema " + std::to_string(id) + " not found"};
  return it->second;
}

Outcome<std::vector<std::pair<std::string, int>>> Registry::usages_of_id(int id,
                                                                         bool deleted) const {
  std::shared_lock lock(mutex_);
  if (!schemas_by_id_.count(id))
    return ApiError{40403, "Schema " + std::to_string(id) + " not found"};
  std::vector<std::pair<std::string, int>> usages;
  for (const auto& [name, subject] : subjects_) {
    for (const VersionSlot& slot : subject.versions) {
      if (slot.schema_id == id && (deleted || !slot.deleted))
        usages.emplace_back(name, slot.version);
    }
  }
  return usages;
}

std::vector<std::string> Registry::subjects(std::string_view prefix, bool deleted) const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> names;
  for (auto it = subjects_.lower_bound(prefix); it != subjects_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    if (find_subject(it->first, deleted)) names.push_back(it->first);
  }
  return names;
}

std::vector<SubjectVersion> Registry::schemas(std::string_view prefix, bool deleted,
                                              bool latest_only) const {
  std::shared_lock lock(mutex_);
  std::vector<SubjectVersion> out;
  for (auto it = subjects_.lower_bound(prefix); it != subjects_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    const VersionSlot* latest = nullptr;
    for (const VersionSlot& slot : it->second.versions) {
      if (slot.deleted && !deleted) continue;
      if (latest_only) {
        latest = &slot;
      } else {
        out.push_back(make_version(it->first, slot));
      }
    }
    if (latest) out.push_back(make_version(it->first, *latest));
  }
  return out;
}

Outcome<std::vector<int>> Registry::versions(const std::string& subject, bool deleted) const {
  std::shared_lock lock(mutex_);
  const Subject* found = find_subject(subject, deleted);
  if (!found) return subject_not_found(subject);
  std::vector<int> out;
  for (const VersionSlot& slot : found->versions) {
    if (deleted || !slot.deleted) out.push_back(slot.version);
  }
  return out;
}

Outcome<SubjectVersion> Registry::version(const std::string& subject, std::string_view version,
                                          bool deleted) const {
  std::shared_lock lock(mutex_);
  auto slot = find_version(subject, version, deleted);
  if (!slot.ok()) return slot.error();
  return make_version(subject, *slot.value());
}

Outcome<std::vector<int>> Registry::referenced_by(const std::string& subject,
                                                  std::string_view version) const {
  std::shared_lock lock(mutex_);
  auto slot = find_version(subject, version, false);
  if (!slot.ok()) return slot.error();
  std::set<int> ids;
  for (const auto& [name, entry] : subjects_) {
    for (const VersionSlot& other : entry.versions) {
      if (other.deleted) continue;
      for (const Reference& reference : schemas_by_id_.at(other.schema_id)->references) {
        if (reference.subject == subject && reference.version == slot.value()->version) {
          ids.insert(other.schema_id);
        }
      }
    }
  }
  return std::vector<int>(ids.begin(), ids.end());
}

Outcome<std::vector<int>> Registry::delete_subject(const std::string& subject, bool permanent) {
  std::unique_lock lock(mutex_);
  if (auto error = check_writable(subject)) return *error;
  auto it = subjects_.find(subject);
  if (it == subjects_.end() || it->second.versions.empty()) return subject_not_found(subject);
  Subject& found = it->second;
  bool any_live = std::any_of(found.versions.begin(), found.versions.end(),
                              [](const VersionSlot& slot) { return !slot.deleted; });
  std::vector<int> deleted;
  if (!permanent) {
    if (!any_live) {
      return ApiError{40404, "Subject '" + subject +
                                 "' was soft deleted.Set permanent=true to delete permanently"};
    }
    for (const VersionSlot& slot : found.versions) {
      if (!slot.deleted && is_referenced(subject, slot.version)) {
        return ApiError{42206, "One or more references exist to the schema {subject=" + subject +
                                   ",version=" + std::to_string(slot.version) + "}"};
      }
    }
    for (VersionSlot& slot : found.versions) {
      if (slot.deleted) continue;
      if (Status written = store_->set_version_deleted(subject, slot.version); !written) {
        return store_error(written);
      }
      slot.deleted = true;
      deleted.push_back(slot.version);
    }
    return deleted;
  }
  if (any_live) {
    return ApiError{
        40405, "Subject '" + subject + "' was not deleted first before being permanently deleted"};
  }
  for (const VersionSlot& slot : found.versions) {
    if (Status written = store_->remove_version(subject, slot.version); !written) {
      return store_error(written);
    }
    deleted.push_back(slot.version);
  }
  subjects_.erase(it);
  return deleted;
}

Outcome<int> Registry::delete_version(const std::string& subject, std::string_view version,
                                      bool permanent) {
  std::unique_lock lock(mutex_);
  if (auto error = check_writable(subject)) return *error;
  auto slot = find_version(subject, version, permanent);
  if (!slot.ok()) return slot.error();
  int number = slot.value()->version;
  Subject& found = subjects_.find(subject)->second;
  auto it = std::find_if(found.versions.begin(), found.versions.end(),
                         [&](const VersionSlot& s) { return s.version == number; });
  if (!permanent) {
    if (is_referenced(subject, number)) {
      return ApiError{42206, "One or more references exist to the schema {subject=" + subject +
                                 ",version=" + std::to_string(number) + "}"};
    }
    if (Status written = store_->set_version_deleted(subject, number); !written) {
      return store_error(written);
    }
    it->deleted = true;
    return number;
  }
  if (!it->deleted) {
    return ApiError{40407, "Subject '" + subject + "' Version " + std::to_string(number) +
                               " was not deleted first before being permanently deleted"};
  }
  if (Status written = store_->remove_version(subject, number); !written) {
    return store_error(written);
  }
  found.versions.erase(it);
  if (found.versions.empty()) subjects_.erase(subject);
  return number;
}

Outcome<std::string> Registry::compatibility(const std::string* subject,
                                             bool default_to_global) const {
  std::shared_lock lock(mutex_);
  if (subject) {
    if (auto it = subject_compatibility_.find(*subject); it != subject_compatibility_.end()) {
      return it->second;
    }
    if (!default_to_global) {
      return ApiError{
          40408, "Subject '" + *subject + "' does not have subject-level compatibility configured"};
    }
  }
  return global_compatibility_.value_or(options_.default_compatibility);
}

Outcome<std::string> Registry::set_compatibility(const std::string* subject,
                                                 std::string_view level) {
  auto parsed = parse_compatibility(level);
  if (!parsed) {
    return ApiError{42203,
                    "Invalid compatibility level. Valid values are none, backward, forward, full, "
                    "backward_transitive, forward_transitive, and full_transitive"};
  }
  std::unique_lock lock(mutex_);
  if (Status written = store_->set_compatibility(subject ? *subject : "", *parsed); !written) {
    return store_error(written);
  }
  (subject ? subject_compatibility_[*subject] : global_compatibility_.emplace()) = *parsed;
  return *parsed;
}

Outcome<std::string> Registry::delete_compatibility(const std::string* subject) {
  std::unique_lock lock(mutex_);
  std::string previous;
  if (subject) {
    auto it = subject_compatibility_.find(*subject);
    if (it == subject_compatibility_.end()) {
      if (!find_subject(*subject, true)) return subject_not_found(*subject);
      return ApiError{
          40408, "Subject '" + *subject + "' does not have subject-level compatibility configured"};
    }
    previous = it->second;
    if (Status written = store_->set_compatibility(*subject, std::nullopt); !written) {
      return store_error(written);
    }
    subject_compatibility_.erase(it);
    return previous;
  }
  previous = global_compatibility_.value_or(options_.default_compatibility);
  if (Status written = store_->set_compatibility("", std::nullopt); !written) {
    return store_error(written);
  }
  global_compatibility_.reset();
  return previous;
}

Outcome<std::string> Registry::mode(const std::string* subject, bool default_to_global) const {
  std::shared_lock lock(mutex_);
  if (subject) {
    if (auto it = subject_modes_.find(*subject); it != subject_modes_.end()) return it->second;
    if (!default_to_global) {
      return ApiError{40409,
                      "Subject '" + *subject + "' does not have subject-level mode configured"};
    }
  }
  return global_mode_.value_or("READWRITE");
}

Outcome<std::string> Registry::set_mode(const std::string* subject, std::string_view mode,
                                        bool force) {
  auto parsed = parse_mode(mode);
  if (!parsed) {
    return ApiError{42204,
                    "Invalid mode. Valid values are READWRITE, READONLY, READONLY_OVERRIDE and "
                    "IMPORT."};
  }
  std::unique_lock lock(mutex_);
  if (*parsed == "IMPORT" && !force) {
    bool has_schemas = subject ? find_subject(*subject, true) != nullptr : !subjects_.empty();
    if (has_schemas) {
      return ApiError{42205,
                      "Cannot import since found existing subjects; use force=true to override"};
    }
  }
  if (Status written = store_->set_mode(subject ? *subject : "", *parsed); !written) {
    return store_error(written);
  }
  (subject ? subject_modes_[*subject] : global_mode_.emplace()) = *parsed;
  return *parsed;
}

Outcome<std::string> Registry::delete_mode(const std::string* subject) {
  std::unique_lock lock(mutex_);
  if (!subject) {
    std::string previous = global_mode_.value_or("READWRITE");
    if (Status written = store_->set_mode("", std::nullopt); !written) return store_error(written);
    global_mode_.reset();
    return previous;
  }
  auto it = subject_modes_.find(*subject);
  if (it == subject_modes_.end()) {
    return ApiError{40409,
                    "Subject '" + *subject + "' does not have subject-level mode configured"};
  }
  std::string previous = it->second;
  if (Status written = store_->set_mode(*subject, std::nullopt); !written) {
    return store_error(written);
  }
  subject_modes_.erase(it);
  return previous;
}

Outcome<CompatibilityReport> Registry::check_compatibility(const std::string& subject,
                                                           std::optional<std::string_view> version,
                                                           SchemaRequest request,
                                                           bool normalize) const {
  std::shared_lock lock(mutex_);
  std::vector<const SchemaEntry*> existing;
  std::string level = effective_compatibility(subject);
  if (version) {
    auto slot = find_version(subject, *version, false);
    if (!slot.ok()) return slot.error();
    existing.push_back(schemas_by_id_.at(slot.value()->schema_id).get());
    if (level.find("_TRANSITIVE") != std::string::npos) {
      level.erase(level.find("_TRANSITIVE"));  // one version: transitive or not is the same
    }
  } else if (const Subject* found = find_subject(subject, false)) {
    for (const VersionSlot& slot : found->versions) {
      if (!slot.deleted) existing.push_back(schemas_by_id_.at(slot.schema_id).get());
    }
  }
  auto prepared = prepare(request, normalize);
  if (!prepared.ok()) return prepared.error();
  return check_against(level, existing, prepared.value());
}

}  // namespace canonry::registry
