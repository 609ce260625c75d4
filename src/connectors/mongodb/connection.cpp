#include "connectors/mongodb/connection.h"

#include <mutex>

#include "common/arena.h"
#include "formats/bson.h"
#include "json/writer.h"

namespace canonry::mongodb {

namespace {

constexpr size_t kMaxDepth = 128;

void initialise_driver_once() {
  // mongoc_init must run once per process before any other call; mongoc_cleanup is left to exit
  // because connectors may be opened and closed several times in one process.
  static std::once_flag once;
  std::call_once(once, [] {
    // libmongoc logs to stderr by default (warnings such as servers without endSessions); a
    // library of canonry's never prints: errors reach the caller as statuses instead.
    mongoc_log_set_handler(nullptr, nullptr);
    mongoc_init();
  });
}

}  // namespace

Result<Target> parse_target(std::string_view uri) {
  constexpr std::string_view kSchemes[] = {"mongodb://", "mongodb+srv://"};
  std::string_view scheme;
  for (std::string_view candidate : kSchemes) {
    if (uri.substr(0, candidate.size()) == candidate) scheme = candidate;
  }
  if (scheme.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "a MongoDB URI starts with mongodb:// or mongodb+srv://");
  }
  std::string_view rest = uri.substr(scheme.size());
  size_t slash = rest.find('/');
  size_t question = rest.find('?');
  if (question != std::string_view::npos && (slash == std::string_view::npos || question < slash)) {
    slash = std::string_view::npos;  // "?" before any "/": options without a path
  }
  std::string_view authority = rest.substr(0, slash);
  if (authority.empty() || authority.back() == '@') {
    return Status(ErrorCode::kInvalidArgument, "the MongoDB URI names no host");
  }
  std::string_view path, query;
  if (slash != std::string_view::npos) {
    std::string_view after = rest.substr(slash + 1);
    size_t q = after.find('?');
    path = after.substr(0, q);
    if (q != std::string_view::npos) query = after.substr(q);
  }
  size_t dot = path.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == path.size()) {
    return Status(
        ErrorCode::kInvalidArgument,
        "the MongoDB URI must end in /database.collection (it has \"/" + std::string(path) + "\")");
  }
  Target target;
  target.database = std::string(path.substr(0, dot));
  target.collection = std::string(path.substr(dot + 1));
  target.client_uri =
      std::string(scheme) + std::string(authority) + "/" + target.database + std::string(query);
  return target;
}

std::string Target::describe() const {
  // Without credentials and options: what appears in progress lines and DLQ records.
  std::string_view uri = client_uri;
  size_t scheme_end = uri.find("://") + 3;
  std::string_view rest = uri.substr(scheme_end);
  std::string_view authority = rest.substr(0, rest.find('/'));
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  return std::string(uri.substr(0, scheme_end)) + std::string(authority) + "/" + database + "." +
         collection;
}

Status status_from(const bson_error_t& error, std::string_view what) {
  return Status(ErrorCode::kIo, "mongodb: " + std::string(what) + ": " + error.message + " (code " +
                                    std::to_string(error.code) + ")");
}

Result<std::unique_ptr<ClientPool>> ClientPool::create(const Target& target) {
  initialise_driver_once();
  bson_error_t error;
  mongoc_uri_t* uri = mongoc_uri_new_with_error(target.client_uri.c_str(), &error);
  if (uri == nullptr) {
    return Status(ErrorCode::kInvalidArgument,
                  "not a valid MongoDB connection string: " + std::string(error.message));
  }
  mongoc_client_pool_t* pool = mongoc_client_pool_new(uri);
  if (pool == nullptr) {
    mongoc_uri_destroy(uri);
    return Status(ErrorCode::kInvalidArgument, "libmongoc refused the connection string");
  }
  mongoc_client_pool_set_error_api(pool, MONGOC_ERROR_API_VERSION_2);
  mongoc_client_pool_set_appname(pool, "canonry");
  return std::unique_ptr<ClientPool>(new ClientPool(target, uri, pool));
}

ClientPool::~ClientPool() {
  mongoc_client_pool_destroy(pool_);
  mongoc_uri_destroy(uri_);
}

CollectionPtr open_collection(mongoc_client_t* client, const std::string& database,
                              const std::string& collection) {
  return CollectionPtr(mongoc_client_get_collection(client, database.c_str(), collection.c_str()));
}

Result<std::string> element_to_json(const bson_iter_t* element) {
  // Wrapped in a one-field document, decoded, and unwrapped: bson_to_value reads documents only.
  bson_t wrapper = BSON_INITIALIZER;
  bson_append_iter(&wrapper, "v", 1, element);
  Arena arena(1024);
  Result<json::Value> value =
      formats::bson_to_value(bson_get_data(&wrapper), wrapper.len, arena, kMaxDepth);
  bson_destroy(&wrapper);
  if (!value) return value.take_status();
  return json::to_json(value->members()[0].value);
}

}  // namespace canonry::mongodb
