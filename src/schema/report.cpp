#include "schema/report.h"

#include <cctype>

#include "json/writer.h"

namespace canonry::schema {

std::string pointer_to_jsonpath(std::string_view pointer) {
  std::string out = "$";
  size_t pos = 0;
  while (pos < pointer.size() && pointer[pos] == '/') {
    size_t next = pointer.find('/', pos + 1);
    std::string_view raw =
        pointer.substr(pos + 1, next == std::string_view::npos ? next : next - pos - 1);
    std::string token;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~' && i + 1 < raw.size()) {
        token += raw[i + 1] == '1' ? '/' : '~';
        ++i;
      } else {
        token += raw[i];
      }
    }
    bool index = !token.empty() && token.find_first_not_of("0123456789") == std::string::npos;
    bool plain = !token.empty() && !std::isdigit(static_cast<unsigned char>(token[0]));
    for (char c : token) plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    if (index) {
      out += "[" + token + "]";
    } else if (plain) {
      out += "." + token;
    } else {
      out += "[";
      json::append_quoted(out, token);
      out += "]";
    }
    if (next == std::string_view::npos) break;
    pos = next;
  }
  return out;
}

Status validation_status(const std::vector<schema::ValidationError>& errors) {
  std::string message =
      std::to_string(errors.size()) + " schema error" + (errors.size() == 1 ? "" : "s") + ":";
  for (const auto& e : errors) {
    message += " " + (e.instance_path.empty() ? std::string("/") : e.instance_path) + ": " +
               e.message + ";";
  }
  message.pop_back();
  return Status(ErrorCode::kValidation, message);
}

}  // namespace canonry::schema
