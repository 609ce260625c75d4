// URI references as RFC 3986 section 5 resolves them; enough for schema identifiers, which are
// compared as strings once resolved (no case or percent-encoding normalisation).
#include <cctype>
#include <optional>

#include "schema/validator_internal.h"

namespace canonry::schema::detail {
namespace {

struct UriParts {
  std::optional<std::string_view> scheme;
  std::optional<std::string_view> authority;
  std::string_view path;
  std::optional<std::string_view> query;
  std::optional<std::string_view> fragment;
};

UriParts parse_uri(std::string_view text) {
  UriParts parts;
  if (size_t hash = text.find('#'); hash != std::string_view::npos) {
    parts.fragment = text.substr(hash + 1);
    text = text.substr(0, hash);
  }
  if (size_t question = text.find('?'); question != std::string_view::npos) {
    parts.query = text.substr(question + 1);
    text = text.substr(0, question);
  }
  // A scheme is letters, digits, '+', '-', '.' starting with a letter, before the first ':'
  // that comes before any '/'.
  size_t colon = text.find(':');
  if (colon != std::string_view::npos && colon > 0 &&
      text.substr(0, colon).find('/') == text.npos) {
    bool valid = std::isalpha(static_cast<unsigned char>(text[0]));
    for (char c : text.substr(0, colon)) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
        valid = false;
      }
    }
    if (valid) {
      parts.scheme = text.substr(0, colon);
      text = text.substr(colon + 1);
    }
  }
  if (text.starts_with("//")) {
    text = text.substr(2);
    size_t slash = text.find('/');
    parts.authority = text.substr(0, slash);
    text = slash == text.npos ? std::string_view{} : text.substr(slash);
  }
  parts.path = text;
  return parts;
}

std::string remove_dot_segments(std::string_view input) {
  std::string output;
  while (!input.empty()) {
    if (input.starts_with("../")) {
      input.remove_prefix(3);
    } else if (input.starts_with("./")) {
      input.remove_prefix(2);
    } else if (input.starts_with("/./")) {
      input.remove_prefix(2);
    } else if (input == "/.") {
      input = "/";
    } else if (input.starts_with("/../") || input == "/..") {
      input = input.size() == 3 ? std::string_view("/") : input.substr(3);
      size_t last = output.rfind('/');
      output.resize(last == std::string::npos ? 0 : last);
    } else if (input == "." || input == "..") {
      input = {};
    } else {
      size_t next = input.find('/', input[0] == '/' ? 1 : 0);
      output.append(input.substr(0, next));
      input = next == input.npos ? std::string_view{} : input.substr(next);
    }
  }
  return output;
}

std::string recompose(const UriParts& parts, std::string_view path) {
  std::string out;
  if (parts.scheme) {
    out.append(*parts.scheme);
    out += ':';
  }
  if (parts.authority) {
    out += "//";
    out.append(*parts.authority);
  }
  out.append(path);
  if (parts.query) {
    out += '?';
    out.append(*parts.query);
  }
  if (parts.fragment) {
    out += '#';
    out.append(*parts.fragment);
  }
  return out;
}

}  // namespace

std::string resolve_uri(std::string_view base_text, std::string_view reference) {
  UriParts ref = parse_uri(reference);
  if (ref.scheme) return recompose(ref, remove_dot_segments(ref.path));
  UriParts base = parse_uri(base_text);
  UriParts target;
  target.scheme = base.scheme;
  target.fragment = ref.fragment;
  std::string path;
  if (ref.authority) {
    target.authority = ref.authority;
    path = remove_dot_segments(ref.path);
    target.query = ref.query;
  } else {
    target.authority = base.authority;
    if (ref.path.empty()) {
      path = std::string(base.path);
      target.query = ref.query ? ref.query : base.query;
    } else {
      if (ref.path.starts_with('/')) {
        path = remove_dot_segments(ref.path);
      } else {
        std::string merged;
        if (base.authority && base.path.empty()) {
          merged = "/";
        } else if (size_t slash = base.path.rfind('/'); slash != std::string_view::npos) {
          merged = std::string(base.path.substr(0, slash + 1));
        }
        merged.append(ref.path);
        // A relative base without a scheme (an anonymous schema) keeps its leading dot segments.
        path = base.scheme || base.authority ? remove_dot_segments(merged) : merged;
      }
      target.query = ref.query;
    }
  }
  return recompose(target, path);
}

void split_fragment(std::string_view uri, std::string_view& without, std::string_view& fragment) {
  size_t hash = uri.find('#');
  without = uri.substr(0, hash);
  fragment = hash == std::string_view::npos ? std::string_view{} : uri.substr(hash + 1);
}

bool percent_decode(std::string_view text, std::string& out) {
  out.clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return false;
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int high = hex(text[i + 1]), low = hex(text[i + 2]);
    if (high < 0 || low < 0) return false;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return true;
}

}  // namespace canonry::schema::detail
