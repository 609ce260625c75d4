// libFuzzer target: arbitrary bytes as one raw HTTP request to a server carrying the schema
// registry's routes (its store in memory), answered through the same parser, limits, router and
// handlers as a connection. Beyond not crashing: every answer has a status from 200 to 599 and a
// JSON body, and an error body is {"error_code": integer, "message": string}.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "common/arena.h"
#include "json/parser.h"
#include "registry/registry.h"
#include "registry/routes.h"
#include "server/server.h"

namespace {

struct Fixture {
  std::unique_ptr<canonry::registry::Registry> registry;
  std::unique_ptr<canonry::server::Server> server;

  Fixture() {
    auto opened = canonry::registry::Registry::open("");
    if (!opened) std::abort();
    registry = std::move(*opened);
    canonry::server::Options options;
    options.max_body_bytes = 2048;
    options.max_json_depth = 16;
    server = std::make_unique<canonry::server::Server>(options);
    canonry::registry::add_routes(*server, *registry);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  canonry::server::Response response = fixture.server->handle_raw(bytes);
  if (response.status < 200 || response.status > 599) std::abort();
  canonry::Arena arena;
  auto body = canonry::json::parse(response.body, arena);
  if (!body) std::abort();
  if (response.status >= 400) {
    const auto* code = body->find("error_code");
    const auto* message = body->find("message");
    if (!code || !code->is_integer() || !message || !message->is_string()) std::abort();
  }
  return 0;
}
