#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace canonry {

std::string base64_encode(std::string_view bytes);
// Standard alphabet with or without padding; nullopt on any other character.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace canonry
