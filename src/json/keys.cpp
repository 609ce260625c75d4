#include "json/keys.h"

#include <algorithm>

namespace canonry::json {

std::optional<UnknownKey> find_unknown_key(const Value& object,
                                           std::initializer_list<std::string_view> allowed) {
  for (const Member& member : object.members()) {
    if (std::find(allowed.begin(), allowed.end(), member.key) != allowed.end()) continue;
    std::string list;
    for (std::string_view name : allowed) list += (list.empty() ? "" : ", ") + std::string(name);
    return UnknownKey{member.key, "unknown key \"" + std::string(member.key) +
                                      "\" (expected one of: " + list + ")"};
  }
  return std::nullopt;
}

}  // namespace canonry::json
