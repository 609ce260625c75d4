// The Confluent Schema Registry REST API over a Registry, as routes on a server::Server: the same
// paths, query parameters, response shapes, content type (application/vnd.schemaregistry.v1+json)
// and error codes, so that Confluent's clients and serializers work unchanged. docs/registry.md.
#pragma once

#include "registry/registry.h"
#include "server/server.h"

namespace canonry::registry {

inline constexpr std::string_view kContentType = "application/vnd.schemaregistry.v1+json";

// Adds every registry route; `registry` must outlive the server.
void add_routes(server::Server& server, Registry& registry);

}  // namespace canonry::registry
