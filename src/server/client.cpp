#include "server/client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace canonry::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

Result<HttpResult> http_call(const HttpCall& call) {
  constexpr std::string_view kScheme = "http://";
  std::string_view url = call.url;
  if (url.substr(0, kScheme.size()) != kScheme) {
    return Status(ErrorCode::kInvalidArgument,
                  "'" + call.url + "': only http:// URLs are supported");
  }
  url.remove_prefix(kScheme.size());
  size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  std::string target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  size_t colon = authority.rfind(':');
  std::string host(authority.substr(0, colon));
  std::string port =
      colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
  if (host.empty()) {
    return Status(ErrorCode::kInvalidArgument, "'" + call.url + "' names no host");
  }
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(call.timeout);
    stream.connect(resolver.resolve(host, port));
    http::request<http::string_body> request{http::string_to_verb(call.method), target, 11};
    request.set(http::field::host, std::string(authority));
    request.set(http::field::user_agent, "canonry");
    request.set(http::field::accept, "application/vnd.schemaregistry.v1+json, application/json");
    if (!call.content_type.empty()) request.set(http::field::content_type, call.content_type);
    if (!call.bearer_token.empty()) {
      request.set(http::field::authorization, "Bearer " + call.bearer_token);
    }
    request.body() = call.body;
    request.prepare_payload();
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    HttpResult result;
    result.status = static_cast<int>(response.result_int());
    if (auto it = response.find(http::field::content_type); it != response.end()) {
      result.content_type = std::string(it->value());
    }
    result.body = std::move(response.body());
    return result;
  } catch (const std::exception& e) {
    return Status(ErrorCode::kIo, call.method + " " + call.url + ": " + e.what());
  }
}

std::string url_encode_segment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace canonry::server
