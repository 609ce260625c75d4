#include "formats/debezium.h"

#include <algorithm>
#include <cmath>
#include <new>
#include <span>
#include <vector>

#include "json/writer.h"

namespace canonry::formats {

namespace {

using json::Member;
using json::Value;

bool present(const Value* v) {
  return v != nullptr && !v->is_null();
}

// Kafka Connect's JSON converter with schemas enabled wraps every key and value as
// {"schema": …, "payload": …}; a change event itself never has exactly these two members.
const Value& unwrap(const Value& v) {
  if (v.is_object() && v.size() == 2) {
    const Value* payload = v.find("payload");
    if (payload != nullptr && v.find("schema") != nullptr) return *payload;
  }
  return v;
}

bool parse_index(std::string_view text, size_t& index) {
  if (text.empty() || text.size() > 9) return false;
  size_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  index = value;
  return true;
}

std::vector<std::string_view> split_dotted(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) return parts;
    start = dot + 1;
  }
}

Status envelope_error(std::string message) {
  return Status(ErrorCode::kEnvelope, std::move(message));
}

enum class Edit { kSet, kRemove, kTruncate };

// Setting an array element past the end pads with nulls, as MongoDB does; a BSON document of
// 16 MiB cannot hold more elements than this, so a bigger index is not a real update.
constexpr size_t kMaxArrayPadding = size_t{1} << 20;

// Applies one MongoDB update operation at a dotted path. Values are immutable, so the containers
// along the path are copied and everything else is shared. `error` is set (and `base` returned)
// for an index too far past the end of an array.
Value edit(Arena& arena, const Value& base, std::span<const std::string_view> path, Edit mode,
           const Value& value, size_t new_size, Status& error) {
  if (path.empty()) {
    if (mode == Edit::kSet) return value;
    if (mode == Edit::kTruncate && base.is_array() && new_size < base.size()) {
      return Value::array(base.items().data(), static_cast<uint32_t>(new_size));
    }
    return base;
  }
  const std::string_view head = path.front();
  const bool last = path.size() == 1;
  size_t index = 0;
  if (base.is_array() && parse_index(head, index)) {
    auto items = base.items();
    if (index >= items.size() && mode != Edit::kSet) return base;
    if (index > items.size() + kMaxArrayPadding) {
      error = envelope_error("update sets index " + std::to_string(index) + " of an array of " +
                             std::to_string(items.size()) + " elements");
      return base;
    }
    size_t count = std::max(items.size(), index + 1);
    Value* copy = arena.allocate_array<Value>(count);
    for (size_t i = 0; i < count; ++i) new (&copy[i]) Value(i < items.size() ? items[i] : Value());
    // $unset of an array element leaves a null in its place, as MongoDB does.
    copy[index] = (last && mode == Edit::kRemove)
                      ? Value()
                      : edit(arena, copy[index], path.subspan(1), mode, value, new_size, error);
    return Value::array(copy, static_cast<uint32_t>(count));
  }
  auto members = base.is_object() ? base.members() : std::span<const Member>();
  size_t found = members.size();
  for (size_t i = 0; i < members.size(); ++i) {
    if (members[i].key == head) {
      found = i;
      break;
    }
  }
  if (found == members.size() && mode != Edit::kSet) return base;
  if (last && mode == Edit::kRemove) {
    Member* copy = arena.allocate_array<Member>(members.size() - 1);
    size_t out = 0;
    for (size_t i = 0; i < members.size(); ++i) {
      if (i != found) new (&copy[out++]) Member(members[i]);
    }
    return Value::object(copy, static_cast<uint32_t>(out));
  }
  size_t count = members.size() + (found == members.size() ? 1 : 0);
  Member* copy = arena.allocate_array<Member>(count);
  for (size_t i = 0; i < members.size(); ++i) new (&copy[i]) Member(members[i]);
  if (found == members.size()) new (&copy[found]) Member{head, Value()};
  copy[found].value = edit(arena, copy[found].value, path.subspan(1), mode, value, new_size, error);
  return Value::object(copy, static_cast<uint32_t>(count));
}

Result<Value> edit_dotted(Arena& arena, const Value& base, std::string_view dotted, Edit mode,
                          size_t max_depth, const Value& value = Value(), size_t new_size = 0) {
  auto parts = split_dotted(dotted);
  if (parts.size() > max_depth) {
    return envelope_error("update path with more than " + std::to_string(max_depth) +
                          " levels: " + std::string(dotted.substr(0, 200)));
  }
  Status error;
  Value edited = edit(arena, base, parts, mode, value, new_size, error);
  if (!error.is_ok()) return error;
  return edited;
}

}  // namespace

void append_store_json(std::string& out, const Value& value) {
  switch (value.type()) {
    case json::Type::kObject: {
      out += '{';
      bool first = true;
      for (const Member& m : value.members()) {
        if (!first) out += ',';
        first = false;
        json::append_quoted(out, m.key);
        out += ':';
        append_store_json(out, m.value);
      }
      out += '}';
      return;
    }
    case json::Type::kArray: {
      out += '[';
      bool first = true;
      for (const Value& item : value.items()) {
        if (!first) out += ',';
        first = false;
        append_store_json(out, item);
      }
      out += ']';
      return;
    }
    case json::Type::kDecimal:
      // The plain writer prints finite decimals as JSON numbers, which read back as numbers.
      out += "{\"$numberDecimal\":";
      json::append_quoted(out, value.as_string());
      out += '}';
      return;
    case json::Type::kNumber: {
      std::string_view text = value.number_text();
      if (!text.empty() && text.find_first_of(".eE") != std::string_view::npos) {
        out += text;
        return;
      }
      // Without a fraction or exponent the text would read back as an integer.
      double d = value.as_double();
      out += "{\"$numberDouble\":\"";
      if (std::isnan(d)) {
        out += "NaN";
      } else if (std::isinf(d)) {
        out += d < 0 ? "-Infinity" : "Infinity";
      } else {
        json::append_double(out, d);
      }
      out += "\"}";
      return;
    }
    default:
      json::append_value(out, value);
  }
}

Value decode_message_key(json::Parser& parser, std::string_view key, Arena& arena) {
  auto parsed = parser.parse(key, arena);
  return parsed ? *parsed : json::make_string(arena, key);
}

DebeziumDecoder::Outcome DebeziumDecoder::decode_message(const Value& value,
                                                         const Value& message_key, Arena& arena,
                                                         Record& record, Status& error) {
  if (!looks_like_event(value)) {
    record.document = value;
    record.source_key = message_key;
    return Outcome::kRecord;
  }
  std::optional<int64_t> kafka_time = record.envelope_time_ms;
  record.envelope_time_ms.reset();
  Outcome outcome = decode(value, message_key, arena, record, error);
  if (!record.envelope_time_ms) record.envelope_time_ms = kafka_time;
  return outcome;
}

bool DebeziumDecoder::looks_like_event(const Value& value) {
  if (!value.is_object()) return false;
  if (value.find("op") != nullptr &&
      (value.find("after") != nullptr || value.find("before") != nullptr)) {
    return true;
  }
  const Value* payload = value.find("payload");
  return payload != nullptr && payload->is_object() && payload->find("op") != nullptr;
}

Result<Value> DebeziumDecoder::parse_embedded(std::string_view text, Arena& arena) {
  return parser_.parse(text, arena);
}

void DebeziumDecoder::remember(const Value& key, const Value& document) {
  if (store_ == nullptr || key.is_null()) return;
  key_json_.clear();
  json::append_value(key_json_, key);
  document_json_.clear();
  append_store_json(document_json_, document);
  store_->put(key_json_, document_json_);
}

Result<Value> DebeziumDecoder::apply_update(const Value& event, const Value& key, Arena& arena) {
  const Value* description = event.find("updateDescription");
  const Value* patch = event.find("patch");
  if (!present(description) && !present(patch)) {
    return envelope_error(
        "update event without \"after\" carries neither \"updateDescription\" nor \"patch\"");
  }
  if (key.is_null()) {
    return envelope_error(
        "update event without \"after\" and without a key: the document it changes is unknown");
  }
  key_json_.clear();
  json::append_value(key_json_, key);
  if (store_ == nullptr) {
    return envelope_error("update event without \"after\" for key " + key_json_ +
                          ": applying it needs the earlier document, and no raw document store "
                          "is configured");
  }
  auto stored = store_->get(key_json_);
  if (!stored) {
    return envelope_error("update event without \"after\" for key " + key_json_ +
                          ": no earlier document for that key was seen to apply it to");
  }
  auto base = parser_.parse(*stored, arena);
  if (!base) {
    return Status(ErrorCode::kInternal, "stored document for key " + key_json_ +
                                            " is unreadable: " + base.status().message());
  }
  Value document = *base;
  const size_t max_depth = parser_.options().max_depth;

  if (present(description)) {
    if (!description->is_object()) return envelope_error("\"updateDescription\" must be an object");
    if (const Value* truncated = description->find("truncatedArrays"); present(truncated)) {
      for (const Value& t : truncated->items()) {
        const Value* field = t.find("field");
        const Value* size = t.find("size");
        if (size == nullptr) size = t.find("newSize");
        if (field == nullptr || !field->is_string() || size == nullptr || !size->is_integer() ||
            size->as_int() < 0) {
          return envelope_error("\"truncatedArrays\" entries must be {\"field\": …, \"size\": …}");
        }
        auto edited = edit_dotted(arena, document, field->as_string(), Edit::kTruncate, max_depth,
                                  Value(), static_cast<size_t>(size->as_int()));
        if (!edited) return edited;
        document = *edited;
      }
    }
    if (const Value* updated = description->find("updatedFields"); present(updated)) {
      Value fields = *updated;
      // The connector sends them as an extended-JSON string; some versions as an object.
      if (updated->is_string()) {
        auto parsed = parse_embedded(updated->as_string(), arena);
        if (!parsed) return parsed.take_status().with_path("$.updateDescription.updatedFields");
        fields = *parsed;
      }
      if (!fields.is_object()) return envelope_error("\"updatedFields\" must be an object");
      for (const Member& m : fields.members()) {
        auto edited = edit_dotted(arena, document, m.key, Edit::kSet, max_depth, m.value);
        if (!edited) return edited;
        document = *edited;
      }
    }
    if (const Value* removed = description->find("removedFields"); present(removed)) {
      for (const Value& field : removed->items()) {
        if (!field.is_string()) return envelope_error("\"removedFields\" must hold strings");
        auto edited = edit_dotted(arena, document, field.as_string(), Edit::kRemove, max_depth);
        if (!edited) return edited;
        document = *edited;
      }
    }
    return document;
  }

  // The connector before change streams: the oplog entry's update ($set/$unset) or replacement.
  Value operations = *patch;
  if (patch->is_string()) {
    auto parsed = parse_embedded(patch->as_string(), arena);
    if (!parsed) return parsed.take_status().with_path("$.patch");
    operations = *parsed;
  }
  if (!operations.is_object()) return envelope_error("\"patch\" must be an object");
  if (operations.size() == 0 || operations.members()[0].key.empty() ||
      operations.members()[0].key[0] != '$') {
    return operations;  // a replacement document
  }
  for (const Member& op : operations.members()) {
    if (op.key == "$v" && op.value.is_integer() && op.value.as_int() == 1) continue;
    if (op.key == "$set" && op.value.is_object()) {
      for (const Member& m : op.value.members()) {
        auto edited = edit_dotted(arena, document, m.key, Edit::kSet, max_depth, m.value);
        if (!edited) return edited;
        document = *edited;
      }
    } else if (op.key == "$unset" && op.value.is_object()) {
      for (const Member& m : op.value.members()) {
        auto edited = edit_dotted(arena, document, m.key, Edit::kRemove, max_depth);
        if (!edited) return edited;
        document = *edited;
      }
    } else {
      return envelope_error("unsupported \"patch\" operation " + std::string(op.key) +
                            " (only $set and $unset of oplog format 1 are understood)");
    }
  }
  return document;
}

DebeziumDecoder::Outcome DebeziumDecoder::decode(const Value& value, const Value& message_key,
                                                 Arena& arena, Record& record, Status& error) {
  const Value& event = unwrap(value);
  if (event.is_null()) return Outcome::kSkipped;  // a tombstone
  if (!event.is_object()) {
    error = envelope_error(std::string("a Debezium change event must be an object, not ") +
                           std::string(json::type_name(event.type())));
    return Outcome::kError;
  }
  const Value* op = event.find("op");
  if (op == nullptr || !op->is_string() || op->as_string().empty()) {
    error = envelope_error("Debezium change event without \"op\"");
    return Outcome::kError;
  }
  const std::string_view op_code = op->as_string();
  // Truncate and logical-message events change no single document.
  if (op_code == "t" || op_code == "m") return Outcome::kSkipped;

  const Value* source = event.find("source");
  if (const Value* ts = event.find("ts_ms"); ts != nullptr && ts->is_integer()) {
    record.envelope_time_ms = ts->as_int();
  } else if (const Value* source_ts = source ? source->find("ts_ms") : nullptr;
             source_ts != nullptr && source_ts->is_integer()) {
    record.envelope_time_ms = source_ts->as_int();
  }

  const Value* after = event.find("after");
  const Value* before = event.find("before");
  const Value* connector = source ? source->find("connector") : nullptr;
  const bool mongo =
      (after != nullptr && after->is_string()) || (before != nullptr && before->is_string()) ||
      event.find("updateDescription") != nullptr || event.find("patch") != nullptr ||
      event.find("filter") != nullptr ||
      (connector != nullptr && connector->is_string() && connector->as_string() == "mongodb");

  auto document_of = [&](const Value* field, std::string_view name, Value& out) {
    if (!present(field)) return true;
    if (!field->is_string()) {
      out = *field;
      return true;
    }
    auto parsed = parse_embedded(field->as_string(), arena);
    if (!parsed) {
      error = parsed.take_status().with_path("$." + std::string(name));
      return false;
    }
    out = *parsed;
    return true;
  };
  Value after_doc, before_doc;
  if (!document_of(after, "after", after_doc) || !document_of(before, "before", before_doc)) {
    return Outcome::kError;
  }

  // The source key: MongoDB's key is {"id": "<extended JSON of _id>"}, so it becomes the _id
  // value itself, the same value that `after._id` gives when there is no message key.
  Value key;
  const Value& message = unwrap(message_key);
  if (!message.is_null()) {
    key = message;
    const Value* id = message.is_object() && message.size() == 1 ? message.find("id") : nullptr;
    if (mongo && id != nullptr && id->is_string()) {
      auto parsed = parse_embedded(id->as_string(), arena);
      key = parsed ? *parsed : *id;
    }
  } else if (mongo) {
    if (const Value* id = after_doc.find("_id")) {
      key = *id;
    } else if (const Value* before_id = before_doc.find("_id")) {
      key = *before_id;
    } else if (const Value* filter = event.find("filter"); present(filter)) {
      Value filter_doc;
      if (!document_of(filter, "filter", filter_doc)) return Outcome::kError;
      if (const Value* filter_id = filter_doc.find("_id")) key = *filter_id;
    }
  }
  record.source_key = key;

  if (op_code == "c" || op_code == "r" || op_code == "u") {
    record.op = Op::kUpsert;
    if (after_doc.is_object()) {
      record.document = after_doc;
    } else if (op_code == "u") {
      auto updated = apply_update(event, key, arena);
      if (!updated) {
        error = updated.take_status();
        return Outcome::kError;
      }
      record.document = *updated;
    } else {
      error = envelope_error(std::string("Debezium \"") + std::string(op_code) +
                             "\" event without an \"after\" document");
      return Outcome::kError;
    }
    remember(key, record.document);
    return Outcome::kRecord;
  }
  if (op_code == "d") {
    record.op = Op::kDelete;
    record.document = before_doc.is_object() ? before_doc : Value();
    if (store_ != nullptr && !key.is_null()) {
      key_json_.clear();
      json::append_value(key_json_, key);
      store_->erase(key_json_);
    }
    return Outcome::kRecord;
  }
  error = envelope_error("unknown Debezium op \"" + std::string(op_code) +
                         "\" (expected c, r, u, d, t or m)");
  return Outcome::kError;
}

}  // namespace canonry::formats
