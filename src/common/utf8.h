// UTF-8 helpers: validation, Unicode-aware case mapping and white-space trimming.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace canonry {

// Decodes the code point at s[i] and advances i past it. False (i unchanged) for malformed,
// truncated, overlong or surrogate encodings.
bool utf8_decode(std::string_view s, size_t& i, uint32_t& cp);
// Appends the UTF-8 encoding of a code point (at most U+10FFFF).
void utf8_append(std::string& out, uint32_t cp);

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
