#include "json/parser.h"

#include <simdjson.h>

#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "json/extended.h"

namespace canonry::json {

namespace od = simdjson::ondemand;
static_assert(kPadding >= simdjson::SIMDJSON_PADDING);

namespace {

// On-Demand reports a document cut short as whatever it tripped over first ("invalid number",
// "improper structure"). On the error path only, tell truncation apart: the text ends with a
// string or a container still open.
bool ends_inside_value(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth < 0) return false;
    }
  }
  return in_string || depth > 0;
}

// JSON's number grammar (RFC 8259 section 6), whatever the magnitude.
bool is_json_number(std::string_view t) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    return i > start;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == t.size();
}

}  // namespace

struct Parser::Impl {
  od::parser parser;
  // Shared stacks for the items and members of containers still open; their contents are
  // copied into the arena when a container closes, so one allocation per container at most.
  std::vector<Value> items;
  std::vector<Member> members;
  const char* begin = nullptr;
  size_t length = 0;
  Arena* arena = nullptr;
  size_t max_depth = 0;
  bool extended_json = true;
  bool borrow = false;
  const std::vector<std::string>* top_level_members = nullptr;
  Status error;

  bool listed(std::string_view key) const {
    for (const std::string& name : *top_level_members) {
      // Most keys differ from a name in length or first byte: no call to compare the rest.
      if (name.size() == key.size() && (key.empty() || name[0] == key[0]) && name == key) {
        return true;
      }
    }
    return false;
  }

  // A member's key. One without escapes (nearly all) is its raw text, read where it lies;
  // unescaping copies it into simdjson's string buffer first.
  static simdjson::error_code key_of(od::field& field, std::string_view& key) {
    const char* raw = field.key().raw();
    const char* end = raw;
    while (*end != '"' && *end != '\\') ++end;
    if (*end == '"') {
      key = std::string_view(raw, static_cast<size_t>(end - raw));
      return simdjson::SUCCESS;
    }
    return field.unescaped_key().get(key);
  }

  // Text of the input or of simdjson's string buffer: borrowed as it is when the caller allows
  // (it is valid until the next parse), copied into the arena otherwise.
  std::string_view keep(std::string_view text) { return borrow ? text : arena->copy_string(text); }

  bool fail(ErrorCode code, std::string message) {
    if (!error.is_ok()) return false;
    if (code == ErrorCode::kJsonSyntax && ends_inside_value(std::string_view(begin, length))) {
      error = Status(ErrorCode::kJsonTruncated,
                     "document ends inside an unfinished value at byte " + std::to_string(length));
    } else {
      error = Status(code, std::move(message));
    }
    return false;
  }

  bool fail_simdjson(simdjson::error_code code, const char* where) {
    size_t offset =
        where != nullptr && where >= begin ? static_cast<size_t>(where - begin) : length;
    std::string at = " at byte " + std::to_string(offset);
    switch (code) {
      case simdjson::UTF8_ERROR:
        return fail(ErrorCode::kJsonUtf8, "invalid UTF-8" + at);
      case simdjson::DEPTH_ERROR:
        return fail(ErrorCode::kJsonDepth,
                    "nesting deeper than " + std::to_string(max_depth) + " levels" + at);
      case simdjson::EMPTY:
        return fail(ErrorCode::kJsonTruncated, "empty document");
      case simdjson::UNCLOSED_STRING:
        return fail(ErrorCode::kJsonTruncated, "unterminated string" + at);
      case simdjson::INCOMPLETE_ARRAY_OR_OBJECT:
        return fail(ErrorCode::kJsonTruncated, "document ends inside an object or array" + at);
      case simdjson::UNESCAPED_CHARS:
        return fail(ErrorCode::kJsonSyntax, "control character inside a string" + at);
      case simdjson::STRING_ERROR:
        return fail(ErrorCode::kJsonSyntax, "invalid string escape" + at);
      case simdjson::NUMBER_ERROR:
        return fail(ErrorCode::kJsonSyntax, "invalid number" + at);
      case simdjson::T_ATOM_ERROR:
      case simdjson::F_ATOM_ERROR:
      case simdjson::N_ATOM_ERROR:
        return fail(ErrorCode::kJsonSyntax, "invalid literal" + at);
      default:
        return fail(ErrorCode::kJsonSyntax,
                    std::string("invalid JSON (") + simdjson::error_message(code) + ")" + at);
    }
  }

  template <typename V>
  const char* location(V& v) {
    const char* where = nullptr;
    if (v.current_location().get(where) != simdjson::SUCCESS) return nullptr;
    return where;
  }

  // simdjson checks that a scalar document ends after its value when it converts the value; for
  // the numbers it refuses to convert and canonry keeps as text, canonry checks.
  template <typename V>
  bool only_whitespace_after(std::string_view token) {
    if constexpr (std::is_same_v<V, od::document>) {
      const char* end = begin + length;
      for (const char* p = token.data() + token.size(); p < end; ++p) {
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') {
          return fail(ErrorCode::kJsonSyntax, "unexpected content after the document at byte " +
                                                  std::to_string(static_cast<size_t>(p - begin)));
        }
      }
    }
    return true;
  }

  // Numbers keep their text so that they are written back as read and converted exactly.
  template <typename V>
  bool convert_number(V& v, Value& out) {
    std::string_view token;
    // value::raw_json_token() returns the view, document::raw_json_token() a result: accept both.
    simdjson::simdjson_result<std::string_view> raw(v.raw_json_token());
    if (auto e = std::move(raw).get(token)) return fail_simdjson(e, location(v));
    while (!token.empty() && (token.back() == ' ' || token.back() == '\n' || token.back() == '\r' ||
                              token.back() == '\t')) {
      token.remove_suffix(1);
    }
    bool integral = token.find_first_of(".eE") == std::string_view::npos;
    if (integral) {
      int64_t i;
      auto e = v.get_int64().get(i);
      if (e == simdjson::SUCCESS) {
        out = Value::integer(i, keep(token));
        return true;
      }
      if (e != simdjson::NUMBER_OUT_OF_RANGE && e != simdjson::INCORRECT_TYPE) {
        return fail_simdjson(e, token.data());
      }
      // Beyond int64 (and beyond double, for 400-digit integers that decimals can be): the
      // text is the value.
      if (!is_json_number(token)) return fail_simdjson(simdjson::NUMBER_ERROR, token.data());
      if (!only_whitespace_after<V>(token)) return false;
      out = Value::big_integer(keep(token));
      return true;
    }
    double d;
    if (auto e = v.get_double().get(d)) {
      // simdjson refuses what a double cannot hold (1e400); JSON does not, and the text keeps it.
      if (!is_json_number(token)) return fail_simdjson(e, token.data());
      if (!only_whitespace_after<V>(token)) return false;
      bool negative = token[0] == '-';
      size_t exponent = token.find_first_of("eE");
      bool tiny = exponent != std::string_view::npos && token[exponent + 1] == '-';
      d = tiny ? (negative ? -0.0 : 0.0)
               : (negative ? -std::numeric_limits<double>::infinity()
                           : std::numeric_limits<double>::infinity());
    }
    out = Value::number(d, keep(token));
    return true;
  }

  template <typename V>
  bool convert_scalar(V& v, od::json_type type, Value& out) {
    switch (type) {
      case od::json_type::number:
        return convert_number(v, out);
      case od::json_type::string: {
        std::string_view s;
        if (auto e = v.get_string().get(s)) return fail_simdjson(e, location(v));
        out = Value::string(keep(s));
        return true;
      }
      case od::json_type::boolean: {
        bool b;
        if (auto e = v.get_bool().get(b)) return fail_simdjson(e, location(v));
        out = Value::boolean(b);
        return true;
      }
      case od::json_type::null: {
        bool is_null;
        if (auto e = v.is_null().get(is_null)) return fail_simdjson(e, location(v));
        if (!is_null) return fail(ErrorCode::kJsonSyntax, "invalid literal");
        out = Value::null();
        return true;
      }
      default:
        return fail(ErrorCode::kJsonSyntax, "unexpected value");
    }
  }

  bool convert(od::value v, size_t depth, Value& out) {
    od::json_type type;
    if (auto e = v.type().get(type)) return fail_simdjson(e, location(v));
    if (type == od::json_type::array) {
      if (depth >= max_depth) return fail_simdjson(simdjson::DEPTH_ERROR, location(v));
      od::array array;
      if (auto e = v.get_array().get(array)) return fail_simdjson(e, location(v));
      size_t base = items.size();
      for (auto element : array) {
        od::value child;
        if (auto e = element.get(child)) return fail_simdjson(e, location(v));
        Value converted;
        if (!convert(child, depth + 1, converted)) return false;
        items.push_back(converted);
      }
      size_t count = items.size() - base;
      Value* stored = arena->allocate_array<Value>(count);
      if (count) std::memcpy(static_cast<void*>(stored), &items[base], count * sizeof(Value));
      items.resize(base);
      out = Value::array(stored, static_cast<uint32_t>(count));
      return true;
    }
    if (type == od::json_type::object) {
      if (depth >= max_depth) return fail_simdjson(simdjson::DEPTH_ERROR, location(v));
      od::object object;
      if (auto e = v.get_object().get(object)) return fail_simdjson(e, location(v));
      size_t base = members.size();
      for (auto next : object) {
        od::field field;
        if (auto e = std::move(next).get(field)) return fail_simdjson(e, location(v));
        std::string_view key;
        if (auto e = key_of(field, key)) return fail_simdjson(e, location(v));
        // An unlisted member's value is left unread: simdjson skips it on the next field.
        if (depth == 0 && top_level_members != nullptr && !listed(key)) continue;
        Member member{keep(key), Value()};
        od::value child = std::move(field).value();
        if (!convert(child, depth + 1, member.value)) return false;
        members.push_back(member);
      }
      size_t count = members.size() - base;
      Member* stored = arena->allocate_array<Member>(count);
      if (count) std::memcpy(static_cast<void*>(stored), &members[base], count * sizeof(Member));
      members.resize(base);
      out = Value::object(stored, static_cast<uint32_t>(count));
      if (extended_json && count > 0 && count <= 2 && !stored[0].key.empty() &&
          stored[0].key[0] == '$') {
        auto decoded = decode_extended(out, *arena);
        if (!decoded) return fail(decoded.status().code(), decoded.status().message());
        if (decoded->has_value()) out = **decoded;
      }
      return true;
    }
    return convert_scalar(v, type, out);
  }
};

Parser::Parser(ParseOptions options) : options_(options), impl_(std::make_unique<Impl>()) {}
Parser::~Parser() = default;
Parser::Parser(Parser&&) noexcept = default;
Parser& Parser::operator=(Parser&&) noexcept = default;

Result<Value> Parser::parse_padded(std::string_view text, Arena& arena) {
  if (text.size() > options_.max_document_bytes) {
    return Status(ErrorCode::kTooLarge, "document of " + std::to_string(text.size()) +
                                            " bytes exceeds the limit of " +
                                            std::to_string(options_.max_document_bytes));
  }
  // simdjson 3.0 reads the byte just past a document cut short as if it were more of the
  // document, and an opening bracket there sends it past the end of the buffer. Lines are followed
  // by their newline and buffers by zeros, so the in-place path needs that byte to be white space
  // or NUL; anything else is parsed from a copy that is.
  const char next = text.data()[text.size()];
  if (next != '\0' && next != '\n' && next != '\r' && next != ' ' && next != '\t') {
    return parse(text, arena);
  }
  Impl& impl = *impl_;
  impl.begin = text.data();
  impl.length = text.size();
  impl.arena = &arena;
  impl.max_depth = options_.max_depth;
  impl.extended_json = options_.extended_json;
  impl.borrow = options_.borrow;
  impl.top_level_members = options_.top_level_members;
  impl.error = Status();
  impl.items.clear();
  impl.members.clear();

  od::document doc;
  if (auto e =
          impl.parser.iterate(text.data(), text.size(), text.size() + simdjson::SIMDJSON_PADDING)
              .get(doc)) {
    impl.fail_simdjson(e, nullptr);
    return impl.error;
  }
  bool scalar = false;
  if (auto e = doc.is_scalar().get(scalar)) {
    impl.fail_simdjson(e, impl.location(doc));
    return impl.error;
  }
  Value root;
  if (scalar) {
    od::json_type type;
    if (auto e = doc.type().get(type)) {
      impl.fail_simdjson(e, impl.location(doc));
      return impl.error;
    }
    if (!impl.convert_scalar(doc, type, root)) return impl.error;
  } else {
    od::value value;
    if (auto e = doc.get_value().get(value)) {
      impl.fail_simdjson(e, impl.location(doc));
      return impl.error;
    }
    if (!impl.convert(value, 0, root)) return impl.error;
  }
  // Once the root container is consumed, a location that still resolves means trailing content.
  // (A scalar document is one token, checked whole as it was read.)
  const char* trailing = nullptr;
  if (!scalar && doc.current_location().get(trailing) == simdjson::SUCCESS && trailing != nullptr &&
      trailing < text.data() + text.size()) {
    return Status(ErrorCode::kJsonSyntax,
                  "unexpected content after the document at byte " +
                      std::to_string(static_cast<size_t>(trailing - text.data())));
  }
  return root;
}

Result<Value> Parser::parse(std::string_view text, Arena& arena) {
  // The scratch copy is overwritten by the next call: never lend it out.
  bool borrow = options_.borrow;
  options_.borrow = false;
  scratch_.assign(text);
  scratch_.append(kPadding, '\0');
  auto result = parse_padded(std::string_view(scratch_.data(), text.size()), arena);
  options_.borrow = borrow;
  return result;
}

Result<Value> parse(std::string_view text, Arena& arena, ParseOptions options) {
  Parser parser(options);
  return parser.parse(text, arena);
}

}  // namespace canonry::json
