// The HTTP/1.1 server every canonry endpoint runs on (DESIGN 4.8): Boost.Beast over Asio, a pool
// of threads sized to the cores, keep-alive, bounded request bodies and JSON depth, and a bearer
// token for write endpoints when one is configured. Modules add routes before start():
//
//   server::Server server(options);
//   server.route("GET", "/subjects/{subject}/versions", handler);  // before start()
//   CANONRY_RETURN_IF_ERROR(server.start());                      // binds, runs the threads
//   ...
//   server.stop();
//
// Handlers run on the server's threads, concurrently: they must be thread-safe. They never throw
// on purpose; anything thrown becomes a 500 answer. See src/server/README.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/arena.h"
#include "common/status.h"
#include "json/value.h"

namespace canonry::server {

struct Options {
  // "HOST:PORT"; port 0 picks a free one (see Server::port()). Loopback unless told otherwise.
  std::string listen = "127.0.0.1:8081";
  // Worker threads; 0 means one per core.
  unsigned threads = 0;
  // Larger request bodies are answered 413 without being read.
  size_t max_body_bytes = 1024 * 1024;
  // Nesting limit of request bodies parsed with Request::json().
  size_t max_json_depth = 64;
  // When not empty, routes marked Access::kWrite need "Authorization: Bearer <token>".
  std::string bearer_token;
};

struct Request {
  std::string method;  // upper case, as sent: "GET"
  std::string path;    // the target before '?', still percent-encoded
  std::vector<std::pair<std::string, std::string>> query;   // decoded, in order
  std::vector<std::pair<std::string, std::string>> params;  // {name} segments, decoded
  std::string content_type;
  std::string authorization;
  std::string body;
  size_t max_json_depth = 64;

  // A path parameter by name; empty when absent.
  std::string_view param(std::string_view name) const;
  // The first query parameter of that name.
  std::optional<std::string_view> query_param(std::string_view name) const;
  // A query parameter that is "true" (case-insensitive); false when absent or anything else.
  bool query_flag(std::string_view name) const;
  // The body as JSON, within the server's depth and size limits; values live in `arena`.
  Result<json::Value> json(Arena& arena) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;

  static Response json(std::string body, int status = 200) {
    return Response{status, "application/json", std::move(body)};
  }
  // {"error_code": error_code, "message": message}: the error shape of every canonry endpoint,
  // which is also Confluent Schema Registry's.
  static Response error(int status, int error_code, std::string_view message);
};

using Handler = std::function<Response(const Request&)>;

// Whether a route changes state: write routes need the bearer token when one is configured.
enum class Access { kRead, kWrite };

// Method + path pattern → handler. Patterns are literal segments and {name} segments
// ("/subjects/{subject}/versions/{version}"); a request path matches segment by segment after
// percent-decoding, so a {name} segment never spans a '/'. When several patterns match, the one
// with more literal segments wins.
class Router {
 public:
  void add(std::string method, std::string_view pattern, Handler handler, Access access);
  // Routes `request` (filling its params) and calls the handler; 404 when no pattern matches the
  // path, 405 when one does but not for this method, 401 for a write without the token.
  Response dispatch(Request& request, std::string_view bearer_token) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" for a parameter
    size_t literal_segments = 0;
    Handler handler;
    Access access;
  };
  std::vector<Route> routes_;
};

class Server {
 public:
  explicit Server(Options options);
  ~Server();  // stops
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Adds a route; only before start(). Access defaults to kRead for GET and HEAD, else kWrite.
  void route(std::string method, std::string_view pattern, Handler handler);
  void route(std::string method, std::string_view pattern, Handler handler, Access access);

  // Binds the listen address and starts the worker threads; returns at once.
  Status start();
  // Stops accepting, drops open connections and joins the threads. Idempotent.
  void stop();
  // The bound port (useful with port 0), after start().
  uint16_t port() const;
  // The bound "HOST:PORT".
  std::string address() const;

  const Options& options() const { return options_; }
  // Answers one request as a connection would: limits, token, routing, exceptions caught. Used by
  // the connections and by the fuzzer, which has no sockets.
  Response handle(Request& request) const;
  // Parses one raw HTTP/1.1 request with the connections' parser and limits, then handle()s it;
  // malformed or oversized requests get the 400/413 answer a connection would send.
  Response handle_raw(std::string_view bytes) const;

 private:
  struct Runtime;
  Options options_;
  Router router_;
  std::unique_ptr<Runtime> runtime_;
};

// Percent-decodes a URL path segment or query component ('+' means space only in queries).
// Returns false on a malformed escape.
bool percent_decode(std::string_view in, bool plus_is_space, std::string& out);

}  // namespace canonry::server
