#include "server/server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <exception>
#include <thread>

#include "common/utf8.h"
#include "json/parser.h"
#include "json/writer.h"

namespace canonry::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// Larger header blocks are refused with 431: no legitimate client of ours sends more.
constexpr size_t kMaxHeaderBytes = 16 * 1024;
// A connection idle this long between requests (or this slow to send one) is closed.
constexpr std::chrono::seconds kIdleTimeout{60};
// After an answer that closes the connection, how long and how much of the client's remaining
// request is read and dropped before the socket is closed.
constexpr std::chrono::seconds kDrainTimeout{5};
constexpr size_t kMaxDrainBytes = 64 * 1024 * 1024;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);  // "/subjects/" = "/subjects"
  if (path.empty()) return segments;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    segments.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

bool parse_query(std::string_view query, std::vector<std::pair<std::string, std::string>>& out) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string name, value;
    if (!percent_decode(part.substr(0, eq), true, name)) return false;
    if (eq != std::string_view::npos && !percent_decode(part.substr(eq + 1), true, value)) {
      return false;
    }
    if (!is_valid_utf8(name) || !is_valid_utf8(value)) return false;
    out.emplace_back(std::move(name), std::move(value));
  }
  return true;
}

// The request a handler sees, from what Beast parsed; an error answer when the target is bad.
std::optional<Response> fill_request(const http::request<http::string_body>& in, Request& out) {
  out.method = std::string(in.method_string());
  std::string_view target(in.target().data(), in.target().size());
  if (target.empty() || target.front() != '/') {
    return Response::error(400, 400, "the request target must be an absolute path");
  }
  size_t question = target.find('?');
  out.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos && !parse_query(target.substr(question + 1), out.query)) {
    return Response::error(400, 400, "malformed percent-escape or UTF-8 in the query string");
  }
  if (auto it = in.find(http::field::content_type); it != in.end()) {
    out.content_type = std::string(it->value());
  }
  if (auto it = in.find(http::field::authorization); it != in.end()) {
    out.authorization = std::string(it->value());
  }
  out.body = in.body();
  return std::nullopt;
}

Response parse_error_response(const beast::error_code& ec) {
  if (ec == http::error::body_limit) {
    return Response::error(413, 413, "request body larger than the server's limit");
  }
  if (ec == http::error::header_limit) {
    return Response::error(431, 431, "request header block larger than the server's limit");
  }
  return Response::error(400, 400, "malformed HTTP request: " + ec.message());
}

http::response<http::string_body> to_beast(Response response, unsigned version, bool keep_alive) {
  http::response<http::string_body> out{static_cast<http::status>(response.status), version};
  out.set(http::field::server, "canonry");
  out.set(http::field::content_type, response.content_type);
  out.body() = std::move(response.body);
  out.keep_alive(keep_alive);
  out.prepare_payload();
  return out;
}

}  // namespace

bool percent_decode(std::string_view in, bool plus_is_space, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = hex_digit(in[i + 1]), lo = hex_digit(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return true;
}

std::string_view Request::param(std::string_view name) const {
  for (const auto& [key, value] : params) {
    if (key == name) return value;
  }
  return {};
}

std::optional<std::string_view> Request::query_param(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

bool Request::query_flag(std::string_view name) const {
  auto value = query_param(name);
  return value && iequals(*value, "true");
}

Result<json::Value> Request::json(Arena& arena) const {
  json::ParseOptions options;
  options.max_depth = max_json_depth;
  options.extended_json = false;
  return json::parse(body, arena, options);
}

Response Response::error(int status, int error_code, std::string_view message) {
  std::string body = "{\"error_code\":";
  json::append_int(body, error_code);
  body += ",\"message\":";
  json::append_quoted(body, message);
  body += '}';
  return Response{status, "application/json", std::move(body)};
}

void Router::add(std::string method, std::string_view pattern, Handler handler, Access access) {
  Route route{std::move(method), {}, 0, std::move(handler), access};
  for (std::string_view segment : split_path(pattern)) {
    route.segments.emplace_back(segment);
    if (segment.empty() || segment.front() != '{') ++route.literal_segments;
  }
  routes_.push_back(std::move(route));
}

Response Router::dispatch(Request& request, std::string_view bearer_token) const {
  std::vector<std::string> decoded;
  for (std::string_view segment : split_path(request.path)) {
    std::string text;
    if (!percent_decode(segment, false, text)) {
      return Response::error(400, 400, "malformed percent-escape in the path");
    }
    // Names from the path end up in JSON answers, which must stay valid UTF-8.
    if (!is_valid_utf8(text)) return Response::error(400, 400, "the path is not valid UTF-8");
    decoded.push_back(std::move(text));
  }
  const Route* best = nullptr;
  bool path_matched = false;
  for (const Route& route : routes_) {
    if (route.segments.size() != decoded.size()) continue;
    bool match = true;
    for (size_t i = 0; i < decoded.size() && match; ++i) {
      const std::string& segment = route.segments[i];
      bool is_param = !segment.empty() && segment.front() == '{';
      match = is_param ? !decoded[i].empty() : segment == decoded[i];
    }
    if (!match) continue;
    path_matched = true;
    if (route.method != request.method) continue;
    if (!best || route.literal_segments > best->literal_segments) best = &route;
  }
  if (!best) {
    if (path_matched) return Response::error(405, 405, "HTTP 405 Method Not Allowed");
    return Response::error(404, 404, "HTTP 404 Not Found");
  }
  if (best->access == Access::kWrite && !bearer_token.empty()) {
    constexpr std::string_view kScheme = "Bearer ";
    std::string_view given = request.authorization;
    if (given.size() <= kScheme.size() || !iequals(given.substr(0, kScheme.size()), kScheme) ||
        given.substr(kScheme.size()) != bearer_token) {
      return Response::error(401, 40101, "this endpoint needs \"Authorization: Bearer <token>\"");
    }
  }
  request.params.clear();
  for (size_t i = 0; i < decoded.size(); ++i) {
    const std::string& segment = best->segments[i];
    if (!segment.empty() && segment.front() == '{') {
      request.params.emplace_back(segment.substr(1, segment.size() - 2), std::move(decoded[i]));
    }
  }
  return best->handler(request);
}

// The io_context, its threads and the acceptor of a started server.
struct Server::Runtime {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
};

namespace {

// One connection: read a request, answer it, and again while the client keeps it alive.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, const Server& server)
      : stream_(std::move(socket)), server_(server) {}

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(server_.options().max_body_bytes);
    parser_->header_limit(kMaxHeaderBytes);
    stream_.expires_after(kIdleTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      return close();
    }
    if (ec) return write(to_beast(parse_error_response(ec), 11, false));
    auto& in = parser_->get();
    bool keep_alive = in.keep_alive();
    Request request;
    request.max_json_depth = server_.options().max_json_depth;
    Response response;
    if (auto bad = fill_request(in, request)) {
      response = std::move(*bad);
    } else {
      response = server_.handle(request);
    }
    write(to_beast(std::move(response), in.version(), keep_alive));
  }

  void write(http::response<http::string_body> response) {
    response_ = std::move(response);
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec || !self->response_.keep_alive()) return self->close();
                        self->read();
                      });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    // Read and drop what the client still sends (the rest of a refused body) until it closes:
    // closing with unread bytes would reset the connection, and the client might lose the
    // answer. Bounded in time and bytes.
    stream_.expires_after(kDrainTimeout);
    drain(0);
  }

  void drain(size_t drained) {
    if (drained > kMaxDrainBytes) return;
    stream_.async_read_some(asio::buffer(drain_buffer_),
                            [self = shared_from_this(), drained](beast::error_code ec, size_t n) {
                              if (!ec) self->drain(drained + n);
                            });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::array<char, 16 * 1024> drain_buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  const Server& server_;
};

void accept_next(tcp::acceptor& acceptor, const Server& server, asio::io_context& io) {
  acceptor.async_accept(asio::make_strand(io),
                        [&acceptor, &server, &io](beast::error_code ec, tcp::socket socket) {
                          if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
                          if (!ec) std::make_shared<Connection>(std::move(socket), server)->start();
                          accept_next(acceptor, server, io);
                        });
}

Result<tcp::endpoint> parse_listen(std::string_view listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) {
    return Status(ErrorCode::kInvalidArgument,
                  "listen address '" + std::string(listen) + "' is not HOST:PORT");
  }
  std::string host(listen.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host == "localhost") host = "127.0.0.1";
  std::string_view port_text = listen.substr(colon + 1);
  unsigned port = 0;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return Status(ErrorCode::kInvalidArgument,
                  "listen address '" + std::string(listen) + "' has no valid port");
  }
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) {
    return Status(ErrorCode::kInvalidArgument, "listen address '" + std::string(listen) + "': '" +
                                                   host + "' is not an IP address");
  }
  return tcp::endpoint(address, static_cast<uint16_t>(port));
}

}  // namespace

Server::Server(Options options) : options_(std::move(options)) {}

Server::~Server() {
  stop();
}

void Server::route(std::string method, std::string_view pattern, Handler handler) {
  Access access = (method == "GET" || method == "HEAD") ? Access::kRead : Access::kWrite;
  route(std::move(method), pattern, std::move(handler), access);
}

void Server::route(std::string method, std::string_view pattern, Handler handler, Access access) {
  router_.add(std::move(method), pattern, std::move(handler), access);
}

Response Server::handle(Request& request) const {
  if (request.body.size() > options_.max_body_bytes) {
    return Response::error(413, 413, "request body larger than the server's limit");
  }
  try {
    return router_.dispatch(request, options_.bearer_token);
  } catch (const std::exception& e) {
    return Response::error(500, 50001, std::string("internal error: ") + e.what());
  }
}

Response Server::handle_raw(std::string_view bytes) const {
  http::request_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(options_.max_body_bytes);
  parser.header_limit(kMaxHeaderBytes);
  beast::error_code ec;
  while (!ec && !parser.is_done() && !bytes.empty()) {
    size_t used = parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
    if (ec == http::error::need_more) {  // the bytes end inside the message
      ec = {};
      break;
    }
    if (used == 0) break;
    bytes.remove_prefix(used);
  }
  if (!ec && !parser.is_done()) {
    parser.put_eof(ec);
    if (!ec && !parser.is_done()) ec = http::error::partial_message;
  }
  if (ec) return parse_error_response(ec);
  Request request;
  request.max_json_depth = options_.max_json_depth;
  if (auto bad = fill_request(parser.get(), request)) return std::move(*bad);
  return handle(request);
}

Status Server::start() {
  if (runtime_) return Status(ErrorCode::kInvalidArgument, "server already started");
  auto endpoint = parse_listen(options_.listen);
  if (!endpoint) return endpoint.status();
  auto runtime = std::make_unique<Runtime>();
  beast::error_code ec;
  runtime->acceptor.open(endpoint->protocol(), ec);
  if (!ec) runtime->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) runtime->acceptor.bind(*endpoint, ec);
  if (!ec) runtime->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(ErrorCode::kIo, "cannot listen on " + options_.listen + ": " + ec.message());
  }
  accept_next(runtime->acceptor, *this, runtime->io);
  unsigned threads = options_.threads ? options_.threads : std::thread::hardware_concurrency();
  threads = std::max(1u, threads);
  for (unsigned i = 0; i < threads; ++i) {
    runtime->threads.emplace_back([io = &runtime->io] { io->run(); });
  }
  runtime_ = std::move(runtime);
  return Status::ok();
}

void Server::stop() {
  if (!runtime_) return;
  asio::post(runtime_->io, [runtime = runtime_.get()] {
    beast::error_code ec;
    runtime->acceptor.close(ec);
  });
  runtime_->io.stop();
  for (auto& thread : runtime_->threads) thread.join();
  runtime_.reset();
}

uint16_t Server::port() const {
  if (!runtime_) return 0;
  beast::error_code ec;
  auto endpoint = runtime_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

std::string Server::address() const {
  if (!runtime_) return {};
  beast::error_code ec;
  auto endpoint = runtime_->acceptor.local_endpoint(ec);
  if (ec) return {};
  std::string host = endpoint.address().to_string();
  if (endpoint.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(endpoint.port());
}

}  // namespace canonry::server
