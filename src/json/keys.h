// Checking an object's keys against the ones a spec allows, shared by the spec loaders (mapping,
// metrics) so that they report an unknown key in the same words.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "json/value.h"

namespace canonry::json {

// The first member of `object` whose key is not in `allowed`, with the message for it:
// `unknown key "x" (expected one of: a, b)`.
struct UnknownKey {
  std::string_view key;
  std::string message;
};
std::optional<UnknownKey> find_unknown_key(const Value& object,
                                           std::initializer_list<std::string_view> allowed);

}  // namespace canonry::json
