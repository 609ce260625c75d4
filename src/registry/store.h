// The registry's durable storage: one SQLite database in WAL mode under --data DIR. Every write
// is committed before it is answered, so an answered registration survives kill -9 (and, with
// fsync per commit, power loss). The
// Registry keeps everything in memory and writes through to the store; the store is read once at
// start. See docs/registry.md for how this would move to a Kafka `_schemas` topic.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

struct sqlite3;

namespace canonry::registry {

struct StoredSchema {
  int id = 0;
  std::string schema_type;      // "JSON", "AVRO"
  std::string schema;           // canonical text
  std::string references_json;  // [{"name","subject","version"}...], "[]" when none
};

struct StoredVersion {
  std::string subject;
  int version = 0;
  int schema_id = 0;
  bool deleted = false;
};

// A subject's (or, with an empty subject, the global) compatibility level or mode.
struct StoredSetting {
  std::string subject;
  std::string value;
};

struct StoredState {
  std::vector<StoredSchema> schemas;
  std::vector<StoredVersion> versions;
  std::vector<StoredSetting> compatibility;
  std::vector<StoredSetting> modes;
};

class Store {
 public:
  // Opens (creating when missing) DIR/registry.db; an empty DIR keeps the database in memory,
  // for the fuzzer, which must not wait for fsyncs. `sync_commits`: fsync every commit
  // (synchronous=FULL: survives power loss) or let the OS write the WAL back
  // (synchronous=NORMAL: survives the process being killed, not the machine losing power).
  static Result<std::unique_ptr<Store>> open(const std::string& data_dir, bool sync_commits = true);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  Result<StoredState> load();

  // Each call is one transaction, durable when it returns.
  Status add_version(const std::optional<StoredSchema>& new_schema, const StoredVersion& version);
  Status set_version_deleted(const std::string& subject, int version);
  Status remove_version(const std::string& subject, int version);
  Status set_compatibility(const std::string& subject, const std::optional<std::string>& value);
  Status set_mode(const std::string& subject, const std::optional<std::string>& value);

 private:
  explicit Store(sqlite3* db) : db_(db) {}
  Status exec(const char* sql);
  // Copies the WAL into the database file from a thread and connection of its own, once a second
  // after writes, so that no request waits for a checkpoint (SQLite's automatic checkpoint runs
  // inside the commit that crosses its threshold, and costs that request milliseconds).
  void start_checkpointer(const std::string& path);
  Status written(Status status) {
    if (status.is_ok()) dirty_.store(true, std::memory_order_relaxed);
    return status;
  }
  Status set_setting(const char* table, const std::string& subject,
                     const std::optional<std::string>& value);
  sqlite3* db_;
  sqlite3* checkpoint_db_ = nullptr;
  std::thread checkpointer_;
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wake_;
  bool stopping_ = false;
  std::atomic<bool> dirty_{false};
};

}  // namespace canonry::registry
