// UTF-8 helpers: validation, Unicode-aware case mapping and white-space trimming.
#pragma once

#include <string>
#include <string_view>

namespace canonry {

bool is_valid_utf8(std::string_view text);
// Simple (one-to-one) Unicode case mapping of every code point; ASCII takes a fast path.
// Invalid sequences are copied unchanged.
std::string utf8_lower(std::string_view text);
std::string utf8_upper(std::string_view text);
// Removes leading and trailing Unicode White_Space code points.
std::string_view utf8_trim(std::string_view text);
// Number of code points (invalid bytes count one each).
size_t utf8_length(std::string_view text);

}  // namespace canonry
