// RFC 9535 JSONPath over json::Value: a query is parsed once (with the RFC's well-typedness
// checks) into an immutable, cheaply copyable JsonPath and then evaluated against many documents.
// Nodes are handed out by reference into the document; nothing is copied.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/status.h"
#include "json/value.h"

namespace canonry::jsonpath {

// A non-owning reference to a callable `void(const json::Value&)`, so that templated callers reach
// the compiled evaluator without a std::function allocation.
class NodeVisitor {
 public:
  template <typename F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, NodeVisitor>)
      NodeVisitor(F& f)  // NOLINT: implicit by design
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* object, const json::Value& node) { (*static_cast<F*>(object))(node); }) {}
  void operator()(const json::Value& node) const { call_(object_, node); }

 private:
  void* object_;
  void (*call_)(void*, const json::Value&);
};

class JsonPath {
 public:
  // Parses an RFC 9535 query. On error: ErrorCode::kPathSyntax with a message that includes the
  // 0-based character position ("unexpected ']' at position 7").
  static Result<JsonPath> parse(std::string_view text);

  const std::string& text() const;
  // True when the query can yield at most one node (RFC 9535 singular query).
  bool is_singular() const;
  size_t segment_count() const;
  // True when each of segments [begin, end) selects at most one node (one name or index, no
  // descendants), so that evaluating them from any start yields at most one node.
  bool is_singular_range(size_t begin, size_t end) const;
  // True when segment i is a child segment with exactly one wildcard selector: `[*]` or `.*`.
  bool is_wildcard_segment(size_t i) const;

  // Evaluates all segments from `root`, calling visit(node) for each resulting node in order.
  template <typename Visit>
  void evaluate(const json::Value& root, Visit&& visit) const {
    if (is_singular()) {
      if (const json::Value* node = select_singular(root)) visit(*node);
      return;
    }
    evaluate_nodes(root, NodeVisitor(visit));
  }
  void evaluate_nodes(const json::Value& root, NodeVisitor visit) const;

  // Evaluates segments [begin, end) starting from `start`; `root` is what `$` denotes in filters.
  // Callables other than std::function take the template, which wraps them without allocating.
  void evaluate_range(size_t begin, size_t end, const json::Value& root, const json::Value& start,
                      const std::function<void(const json::Value&)>& visit) const;
  template <typename Visit>
  void evaluate_range(size_t begin, size_t end, const json::Value& root, const json::Value& start,
                      Visit&& visit) const {
    evaluate_range_nodes(begin, end, root, start, NodeVisitor(visit));
  }
  void evaluate_range_nodes(size_t begin, size_t end, const json::Value& root,
                            const json::Value& start, NodeVisitor visit) const;

  // For singular queries: the node, or nullptr when there is none. Allocates nothing. For other
  // queries: nullptr.
  const json::Value* select_singular(const json::Value& root) const;

  // The nodelist, and the nodelist with normalized paths ("$['a'][0]", RFC 9535 section 2.7).
  std::vector<const json::Value*> select(const json::Value& root) const;
  std::vector<std::pair<std::string, const json::Value*>> select_with_paths(
      const json::Value& root) const;

  struct Impl;

 private:
  explicit JsonPath(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Appends the normalized-path form of a member name (`['a\'b']`) to `out`.
void append_normalized_name(std::string& out, std::string_view name);

// Translates an I-Regexp (RFC 9485) into RE2 syntax. False when `pattern` is not a valid
// I-Regexp, or uses a construct RE2 cannot express (see README).
bool iregexp_to_re2(std::string_view pattern, std::string& out);

}  // namespace canonry::jsonpath
