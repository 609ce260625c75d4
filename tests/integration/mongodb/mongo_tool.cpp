// What the MongoDB tests and bench/mongo need from a MongoDB client, without installing one
// (Debian has no MongoDB tools):
//   mongo_tool load URI FILE.bson     inserts a mongodump file's documents into db.collection
//   mongo_tool dump URI FILE.bson     writes db.collection in _id order as a mongodump file
//   mongo_tool delete URI FILTER      deletes the documents matching FILTER (extended JSON)
//   mongo_tool drop URI               drops the database of URI
// URI: mongodb://host:port/db.collection. FerretDB v1 stores no Decimal128: `load` then writes a
// Decimal128 as the string of its digits (what the orders example's mappings also read) and says
// how many it converted; `dump` shows what the collection holds, so tests compare against that.
#include <bson/bson.h>
#include <mongoc/mongoc.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "mongo_tool: %s\n", message.c_str());
  return 1;
}

struct Namespace {
  std::string client_uri, database, collection;
};

bool split(const std::string& uri, Namespace& out) {
  size_t scheme = uri.find("://");
  size_t slash = scheme == std::string::npos ? std::string::npos : uri.find('/', scheme + 3);
  if (slash == std::string::npos) return false;
  std::string path = uri.substr(slash + 1);
  size_t dot = path.find('.');
  if (dot == std::string::npos) return false;
  out.client_uri = uri.substr(0, slash);
  out.database = path.substr(0, dot);
  out.collection = path.substr(dot + 1);
  return true;
}

bool server_has_decimal128(mongoc_client_t* client) {
  bson_t command = BSON_INITIALIZER, reply;
  BSON_APPEND_INT32(&command, "buildInfo", 1);
  bool ok = mongoc_client_command_simple(client, "admin", &command, nullptr, &reply, nullptr);
  bson_iter_t it;
  bool ferretdb = ok && bson_iter_init_find(&it, &reply, "ferretdbVersion");
  bson_destroy(&command);
  bson_destroy(&reply);
  return !ferretdb;
}

// Copies `from` into `to`, Decimal128 values as strings, counting them.
void copy_without_decimal128(bson_iter_t* from, bson_t* to, size_t& converted) {
  while (bson_iter_next(from)) {
    const char* key = bson_iter_key(from);
    if (BSON_ITER_HOLDS_DECIMAL128(from)) {
      bson_decimal128_t value;
      bson_iter_decimal128(from, &value);
      char text[BSON_DECIMAL128_STRING];
      bson_decimal128_to_string(&value, text);
      BSON_APPEND_UTF8(to, key, text);
      ++converted;
    } else if (BSON_ITER_HOLDS_DOCUMENT(from) || BSON_ITER_HOLDS_ARRAY(from)) {
      bool child_array = BSON_ITER_HOLDS_ARRAY(from);
      bson_iter_t child_iter;
      bson_iter_recurse(from, &child_iter);
      bson_t child;
      if (child_array) {
        BSON_APPEND_ARRAY_BEGIN(to, key, &child);
      } else {
        BSON_APPEND_DOCUMENT_BEGIN(to, key, &child);
      }
      copy_without_decimal128(&child_iter, &child, converted);
      if (child_array) {
        bson_append_array_end(to, &child);
      } else {
        bson_append_document_end(to, &child);
      }
    } else {
      bson_append_iter(to, key, -1, from);
    }
  }
}

int load(mongoc_collection_t* collection, mongoc_client_t* client, const char* path) {
  bson_error_t error;
  bson_reader_t* reader = bson_reader_new_from_file(path, &error);
  if (reader == nullptr) return fail(std::string(path) + ": " + error.message);
  const bool decimal128 = server_has_decimal128(client);
  size_t converted = 0, inserted = 0;
  constexpr size_t kBatch = 1000;
  const bson_t* pending[kBatch];
  size_t count = 0;
  auto flush = [&]() {
    if (count == 0) return true;
    bool ok = mongoc_collection_insert_many(collection, pending, count, nullptr, nullptr, &error);
    inserted += count;
    for (size_t i = 0; i < count; ++i) bson_destroy(const_cast<bson_t*>(pending[i]));
    count = 0;
    return ok;
  };
  const bson_t* document;
  bool eof = false;
  while ((document = bson_reader_read(reader, &eof)) != nullptr) {
    bson_t* copy = bson_new();
    if (decimal128) {
      bson_copy_to(document, copy);
    } else {
      bson_iter_t it;
      bson_iter_init(&it, document);
      copy_without_decimal128(&it, copy, converted);
    }
    pending[count++] = copy;
    if (count == kBatch && !flush()) break;
  }
  bool ok = flush();
  bson_reader_destroy(reader);
  if (!ok) return fail(std::string("insert: ") + error.message);
  if (!eof) return fail(std::string(path) + ": not a sequence of BSON documents");
  std::fprintf(stderr, "mongo_tool: %zu documents loaded", inserted);
  if (converted) std::fprintf(stderr, " (%zu Decimal128 values stored as strings)", converted);
  std::fprintf(stderr, "\n");
  return 0;
}

int dump(mongoc_collection_t* collection, const char* path) {
  FILE* out = std::fopen(path, "wb");
  if (out == nullptr) return fail(std::string(path) + ": " + std::strerror(errno));
  bson_t filter = BSON_INITIALIZER;
  bson_t* options = BCON_NEW("sort", "{", "_id", BCON_INT32(1), "}");
  mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(collection, &filter, options, nullptr);
  const bson_t* document;
  while (mongoc_cursor_next(cursor, &document)) {
    std::fwrite(bson_get_data(document), 1, document->len, out);
  }
  bson_error_t error;
  bool failed = mongoc_cursor_error(cursor, &error);
  mongoc_cursor_destroy(cursor);
  bson_destroy(options);
  std::fclose(out);
  return failed ? fail(std::string("find: ") + error.message) : 0;
}

int remove_matching(mongoc_collection_t* collection, const char* filter_json) {
  bson_error_t error;
  bson_t* filter = bson_new_from_json(reinterpret_cast<const uint8_t*>(filter_json), -1, &error);
  if (filter == nullptr) return fail(std::string("filter: ") + error.message);
  bson_t reply;
  bool ok = mongoc_collection_delete_many(collection, filter, nullptr, &reply, &error);
  bson_destroy(filter);
  bson_iter_t it;
  if (ok && bson_iter_init_find(&it, &reply, "deletedCount")) {
    std::printf("%lld\n", static_cast<long long>(bson_iter_as_int64(&it)));
  }
  bson_destroy(&reply);
  return ok ? 0 : fail(std::string("delete: ") + error.message);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    return fail("usage: mongo_tool load|dump URI FILE.bson | delete URI FILTER | drop URI");
  }
  std::string action = argv[1];
  Namespace target;
  if (!split(argv[2], target))
    return fail(std::string("not mongodb://host/db.collection: ") + argv[2]);
  mongoc_log_set_handler(nullptr, nullptr);
  mongoc_init();
  mongoc_client_t* client = mongoc_client_new(target.client_uri.c_str());
  if (client == nullptr) return fail("bad URI " + target.client_uri);
  mongoc_collection_t* collection =
      mongoc_client_get_collection(client, target.database.c_str(), target.collection.c_str());
  int status = 2;
  if (action == "load" && argc == 4) {
    status = load(collection, client, argv[3]);
  } else if (action == "dump" && argc == 4) {
    status = dump(collection, argv[3]);
  } else if (action == "delete" && argc == 4) {
    status = remove_matching(collection, argv[3]);
  } else if (action == "drop" && argc == 3) {
    mongoc_database_t* database = mongoc_client_get_database(client, target.database.c_str());
    bson_error_t error;
    status = mongoc_database_drop(database, &error) ? 0 : fail(error.message);
    mongoc_database_destroy(database);
  } else {
    fail("usage: mongo_tool load|dump URI FILE.bson | delete URI FILTER | drop URI");
  }
  mongoc_collection_destroy(collection);
  mongoc_client_destroy(client);
  mongoc_cleanup();
  return status;
}
