// A small blocking HTTP/1.1 client on Boost.Beast, for commands that talk to a canonry or
// Confluent registry (`canonry discover --register`, `canonry check --registry`). Plain http://
// only; one connection per call.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"

namespace canonry::server {

struct HttpResult {
  int status = 0;
  std::string content_type;
  std::string body;
};

struct HttpCall {
  std::string method = "GET";
  std::string url;  // http://HOST:PORT/path?query
  std::string body;
  std::string content_type;
  std::string bearer_token;  // sent as "Authorization: Bearer ..." when not empty
  std::chrono::milliseconds timeout{10000};
};

// The answer whatever its status; an error only when no answer came (bad URL, connection, I/O).
Result<HttpResult> http_call(const HttpCall& call);

// Percent-encodes one path segment (a subject name may hold '/', ' ', ...).
std::string url_encode_segment(std::string_view text);

}  // namespace canonry::server
