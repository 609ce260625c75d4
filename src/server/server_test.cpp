#include "server/server.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace canonry::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

void add_routes(Server& server) {
  server.route("GET", "/subjects/{subject}/versions/{version}", [](const Request& request) {
    return Response::json("[\"" + std::string(request.param("subject")) + "\",\"" +
                          std::string(request.param("version")) + "\"]");
  });
  server.route("GET", "/subjects/{subject}/versions/latest",
               [](const Request&) { return Response::json("\"literal wins\""); });
  server.route("POST", "/echo", [](const Request& request) {
    Arena arena;
    auto body = request.json(arena);
    if (!body) return Response::error(422, 42201, body.status().to_string());
    return Response::json(request.body);
  });
  server.route("GET", "/query", [](const Request& request) {
    return Response::json(request.query_flag("deleted") ? "true" : "false");
  });
}

std::string raw_get(std::string_view target, std::string_view headers = {}) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n" + std::string(headers) + "\r\n";
}

std::string raw_post(std::string_view target, std::string_view body,
                     std::string_view headers = {}) {
  return "POST " + std::string(target) +
         " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(headers) + "\r\n" + std::string(body);
}

TEST(Router, MatchesParametersAfterPercentDecoding) {
  Server server({});
  add_routes(server);
  Response response = server.handle_raw(raw_get("/subjects/raw.a%2Fb/versions/3"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"(["raw.a/b","3"])");
}

TEST(Router, MoreLiteralSegmentsWin) {
  Server server({});
  add_routes(server);
  EXPECT_EQ(server.handle_raw(raw_get("/subjects/s/versions/latest")).body, "\"literal wins\"");
}

TEST(Router, UnknownPathIs404AndWrongMethodIs405) {
  Server server({});
  add_routes(server);
  Response missing = server.handle_raw(raw_get("/nothing"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"error_code":404,"message":"HTTP 404 Not Found"})");
  EXPECT_EQ(server.handle_raw(raw_post("/subjects/s/versions/1", "{}")).status, 405);
}

TEST(Router, PathsAndQueriesMustBeUtf8) {
  Server server({});
  add_routes(server);
  EXPECT_EQ(server.handle_raw(raw_get("/subjects/a%FF/versions/1")).status, 400);
  EXPECT_EQ(server.handle_raw(raw_get("/subjects/a\xff/versions/1")).status, 400);
  EXPECT_EQ(server.handle_raw(raw_get("/query?deleted=%FF")).status, 400);
  EXPECT_EQ(server.handle_raw(raw_get("/subjects/%C3%A9/versions/1")).body, R"(["é","1"])");
}

TEST(Router, QueryFlags) {
  Server server({});
  add_routes(server);
  EXPECT_EQ(server.handle_raw(raw_get("/query?deleted=TRUE")).body, "true");
  EXPECT_EQ(server.handle_raw(raw_get("/query?deleted=no")).body, "false");
  EXPECT_EQ(server.handle_raw(raw_get("/query?deleted=%zz")).status, 400);
}

TEST(Limits, BodyLimitAnswers413) {
  Options options;
  options.max_body_bytes = 8;
  Server server(options);
  add_routes(server);
  EXPECT_EQ(server.handle_raw(raw_post("/echo", "[1,2,3,4,5]")).status, 413);
  EXPECT_EQ(server.handle_raw(raw_post("/echo", "[1]")).status, 200);
}

TEST(Limits, JsonDepthIsBounded) {
  Options options;
  options.max_json_depth = 4;
  Server server(options);
  add_routes(server);
  EXPECT_EQ(server.handle_raw(raw_post("/echo", "[[[[[[1]]]]]]")).status, 422);
  EXPECT_EQ(server.handle_raw(raw_post("/echo", "[[1]]")).status, 200);
}

TEST(Limits, MalformedRequestIs400) {
  Server server({});
  add_routes(server);
  EXPECT_EQ(server.handle_raw("NOT HTTP\r\n\r\n").status, 400);
  EXPECT_EQ(server.handle_raw("GET relative HTTP/1.1\r\nHost: x\r\n\r\n").status, 400);
}

TEST(Token, WritesNeedTheBearerTokenReadsDoNot) {
  Options options;
  options.bearer_token = "s3cret";
  Server server(options);
  add_routes(server);
  EXPECT_EQ(server.handle_raw(raw_post("/echo", "1")).status, 401);
  EXPECT_EQ(server.handle_raw(raw_post("/echo", "1", "Authorization: Bearer wrong\r\n")).status,
            401);
  EXPECT_EQ(server.handle_raw(raw_post("/echo", "1", "Authorization: Bearer s3cret\r\n")).status,
            200);
  EXPECT_EQ(server.handle_raw(raw_get("/subjects/s/versions/1")).status, 200);
}

TEST(Sockets, KeepAliveServesSeveralRequestsOnOneConnection) {
  Options options;
  options.listen = "127.0.0.1:0";
  options.threads = 2;
  Server server(options);
  add_routes(server);
  ASSERT_TRUE(server.start().is_ok());
  ASSERT_NE(server.port(), 0);

  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(
      boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), server.port()));
  for (int i = 0; i < 3; ++i) {
    http::request<http::string_body> request{http::verb::get,
                                             "/subjects/s/versions/" + std::to_string(i), 11};
    request.set(http::field::host, "127.0.0.1");
    request.keep_alive(true);
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response.body(), "[\"s\",\"" + std::to_string(i) + "\"]");
    EXPECT_TRUE(response.keep_alive());
  }
  server.stop();
}

TEST(Sockets, BadListenAddressIsAnError) {
  Options options;
  options.listen = "not-an-ip:80";
  Server server(options);
  Status started = server.start();
  EXPECT_FALSE(started.is_ok());
  EXPECT_NE(started.message().find("not an IP address"), std::string::npos);
}

}  // namespace
}  // namespace canonry::server
