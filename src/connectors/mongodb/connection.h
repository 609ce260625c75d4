// MongoDB URIs (DESIGN 4.1: mongodb://host:port/db.collection) and connections through libmongoc.
#pragma once

#include <bson/bson.h>
#include <mongoc/mongoc.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"

namespace canonry::mongodb {

// A collection named by a canonry URI. The path names the database and the collection, split at
// the first dot ("shop.orders.archive": database shop, collection orders.archive); everything
// else (hosts, credentials, ?options) is a standard MongoDB connection string, passed on as is.
struct Target {
  std::string client_uri;  // the connection string without ".collection" ("mongodb://h:1/shop")
  std::string database;
  std::string collection;
  std::string describe() const;  // "mongodb://h:1/shop.orders", credentials left out
};

// kInvalidArgument, saying what is wrong, for a URI that is not mongodb:// or mongodb+srv://,
// has no host, or has no "db.collection" path.
Result<Target> parse_target(std::string_view uri);

// "mongodb: <message> (code N)": libmongoc's error, kept whole so that operators can look it up.
Status status_from(const bson_error_t& error, std::string_view what);

// libmongoc handles are not thread-safe; a pool hands one client to each thread that needs one
// (the sink thread and the partition threads that look up keys at the same time).
class ClientPool {
 public:
  // Checks the URI (no connection yet: the first operation connects).
  static Result<std::unique_ptr<ClientPool>> create(const Target& target);
  ~ClientPool();
  ClientPool(const ClientPool&) = delete;
  ClientPool& operator=(const ClientPool&) = delete;

  // A client for the current operation, back to the pool when the lease goes.
  class Lease {
   public:
    Lease(mongoc_client_pool_t* pool) : pool_(pool), client_(mongoc_client_pool_pop(pool)) {}
    ~Lease() { mongoc_client_pool_push(pool_, client_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    mongoc_client_t* get() const { return client_; }

   private:
    mongoc_client_pool_t* pool_;
    mongoc_client_t* client_;
  };
  Lease lease() { return Lease(pool_); }
  const Target& target() const { return target_; }

 private:
  ClientPool(Target target, mongoc_uri_t* uri, mongoc_client_pool_t* pool)
      : target_(std::move(target)), uri_(uri), pool_(pool) {}
  Target target_;
  mongoc_uri_t* uri_;
  mongoc_client_pool_t* pool_;
};

// Owners of libbson / libmongoc objects.
// (bson_t is over-aligned, which std::unique_ptr<bson_t> warns about: hence a class of its own.)
class BsonPtr {
 public:
  BsonPtr() = default;
  explicit BsonPtr(bson_t* document) : document_(document) {}
  ~BsonPtr() { reset(); }
  BsonPtr(BsonPtr&& other) noexcept : document_(std::exchange(other.document_, nullptr)) {}
  BsonPtr& operator=(BsonPtr&& other) noexcept {
    if (this != &other) reset(std::exchange(other.document_, nullptr));
    return *this;
  }
  BsonPtr(const BsonPtr&) = delete;
  BsonPtr& operator=(const BsonPtr&) = delete;

  bson_t* get() const { return document_; }
  explicit operator bool() const { return document_ != nullptr; }
  void reset(bson_t* document = nullptr) {
    if (document_ != nullptr) bson_destroy(document_);
    document_ = document;
  }

 private:
  bson_t* document_ = nullptr;
};
struct CollectionDeleter {
  void operator()(mongoc_collection_t* c) const { mongoc_collection_destroy(c); }
};
using CollectionPtr = std::unique_ptr<mongoc_collection_t, CollectionDeleter>;
struct CursorDeleter {
  void operator()(mongoc_cursor_t* c) const { mongoc_cursor_destroy(c); }
};
using CursorPtr = std::unique_ptr<mongoc_cursor_t, CursorDeleter>;

CollectionPtr open_collection(mongoc_client_t* client, const std::string& database,
                              const std::string& collection);

// One value (an `_id`) as JSON the way canonry writes it (relaxed extended JSON for MongoDB types,
// through formats::bson_to_value and json::to_json), so that source keys read from MongoDB compare
// equal, byte for byte, to the keys other sources and the stores hold.
Result<std::string> element_to_json(const bson_iter_t* element);

}  // namespace canonry::mongodb
