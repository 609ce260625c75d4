// The connector interfaces of a pipeline (DESIGN 2 and 5): sources deliver messages per partition,
// the runtime decodes, maps and validates them into batches, and every sink applies every batch
// idempotently and records, atomically with what it writes, the position it has applied per
// (source, partition). See src/pipeline/README.md for the protocol in full.
//
// Positions. A position is where to resume a partition: the offset of the next message to read
// (Kafka: last offset + 1; files: the byte offset after the last line). A message carries its own
// `offset` and its `next_offset`; a batch covers [first_offset, next_offset). A sink that has
// applied a batch "holds" the partition up to the batch's next_offset.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace canonry::pipeline {

// ---------------------------------------------------------------------------------------------
// Time, injectable where it matters (progress lines, latency, flush intervals).

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock milliseconds since the epoch (message timestamps, end-to-end latency).
  virtual int64_t now_ms() const = 0;
  // Monotonic nanoseconds (intervals).
  virtual int64_t monotonic_ns() const = 0;
};
// The process's clocks (system_clock and steady_clock).
const Clock& system_clock();

// ---------------------------------------------------------------------------------------------
// Partitions: the unit of ordering and ownership.

struct PartitionKey {
  std::string source;  // the pipeline source's name (config `sources[].name`)
  int32_t partition = 0;

  auto operator<=>(const PartitionKey&) const = default;
  bool operator==(const PartitionKey&) const = default;
  // "shop_v2/3"
  std::string to_string() const;
};

// ---------------------------------------------------------------------------------------------
// Sources

struct Header {
  std::string_view key;
  std::optional<std::string_view> value;
};

// One message as a source delivers it. The bytes belong to the PartitionReader and stay valid until
// its next read().
struct Message {
  int64_t offset = 0;       // this message's position in its partition
  int64_t next_offset = 0;  // the position after it (where to resume once it is applied)
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;  // absent: a tombstone
  int64_t timestamp_ms = -1;              // the source's timestamp, -1 when it has none
  std::span<const Header> headers;
  // Where the message came from, for DLQ records and messages: a line number for line-based
  // files (0 otherwise), the topic for Kafka (empty otherwise; its DLQ position then reads
  // "topic/partition@offset").
  int64_t line = 0;
  std::string_view topic;
};

struct MessageBatch {
  std::vector<Message> messages;
  // True once a bounded partition has delivered everything it has (files without follow mode).
  bool end = false;
};

// Reads one assigned partition. Each reader is used by one thread at a time (the partition's).
class PartitionReader {
 public:
  virtual ~PartitionReader() = default;
  // Replaces `batch.messages` with the next messages (at most `max_messages`), waiting at most
  // `timeout` for the first one. No messages and `end` false: nothing arrived in time. A non-ok
  // status is a transient failure (the runtime logs it and calls again).
  virtual Status read(MessageBatch& batch, size_t max_messages,
                      std::chrono::milliseconds timeout) = 0;
  // How far behind the end of the partition the reader is, in the source's unit (Kafka: messages
  // to the high watermark; files: bytes to the current end), when known.
  virtual std::optional<int64_t> lag() const { return std::nullopt; }
};

// The runtime's side of partition ownership. A source calls it from start() (fixed partitions,
// such as a file's single partition 0) or from poll() (Kafka rebalance callbacks), on the control
// thread, and never from close(): by then the runtime has stopped every partition and sink thread,
// flushed and committed, so there is nobody left to hand partitions to or take them from (a
// consumer that is revoked while it leaves its group just drops the assignment; the Kafka source
// does so under its `closing_` flag). The runtime refuses such a call with an error.
class PartitionListener {
 public:
  virtual ~PartitionListener() = default;
  // New partitions: the runtime asks every sink for its applied position, opens a reader on each
  // partition at the lowest one (Source::open_partition) and starts the partition's thread.
  virtual Status on_assigned(std::span<const int32_t> partitions) = 0;
  // Partitions taken away: the runtime stops their threads, waits until every sink has applied
  // and flushed what was read from them, commits their positions (Source::commit), calls
  // Sink::release, and only then returns, so that the next owner starts where this one stopped.
  virtual Status on_revoked(std::span<const int32_t> partitions) = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  // The pipeline source's name, the `source` of every PartitionKey it produces.
  virtual const std::string& name() const = 0;
  // Bounded sources end (a file without follow mode); `canonry run --until-end` stops once all
  // partitions of all bounded sources have reached their end and every sink has flushed.
  virtual bool bounded() const = 0;
  // Starts delivering: a source with fixed partitions calls listener.on_assigned before
  // returning; a consumer group subscribes and calls it from poll(). The listener outlives the
  // source.
  virtual Status start(PartitionListener& listener) = 0;
  // Called in a loop by the runtime's control thread (never from a partition thread): serves group
  // protocol events, in which the listener's callbacks run. Returns after at most `timeout`.
  virtual Status poll(std::chrono::milliseconds timeout) = 0;
  // A reader on an assigned partition starting at `position` (nullopt: no sink holds anything of
  // this partition, start at its beginning; for Kafka the earliest retained offset, since the
  // group's committed offset is only a hint).
  virtual Result<std::unique_ptr<PartitionReader>> open_partition(
      int32_t partition, std::optional<int64_t> position) = 0;
  // Every sink has applied and flushed the partition up to `position`: the source may forget
  // what lies before it (Kafka: commit the offset; files: nothing to do).
  virtual Status commit(int32_t partition, int64_t position) = 0;
  // Stops delivering (leaves the group). Partition readers are destroyed before this is called,
  // and the sinks have flushed. Must not call the PartitionListener (see there), not even for the
  // revocation that leaving a group brings.
  virtual Status close() = 0;
};

// ---------------------------------------------------------------------------------------------
// Batches: what the runtime hands to sinks, for one (source, partition), in position order.

// A slice of Batch::text.
struct TextRef {
  uint32_t begin = 0;
  uint32_t size = 0;
  bool empty() const { return size == 0; }
};

struct Entry {
  enum class Kind : uint8_t {
    kUpsert,      // `document` is the canonical record, `key` its canonical key
    kDelete,      // `key` is the canonical key of the entity deleted (resolved by the runtime
                  // through the state store's source-key index when the message only named the
                  // source key)
    kDeadLetter,  // `document` is the DLQ line (DESIGN 4.4) without its newline
    kSkipped,     // nothing to apply (a tombstone), only the position moves
  };
  Kind kind = Kind::kSkipped;
  int64_t offset = 0;
  int64_t next_offset = 0;
  int64_t timestamp_ms = -1;   // the message's source timestamp, -1 when none
  int64_t event_time_ms = -1;  // the canonical record's event time (mapping `eventTime`), -1
  TextRef key;                 // canonical key as compact JSON ("\"A-1\"", "42")
  TextRef source_key;          // the source key as compact JSON, empty when none
  TextRef document;            // canonical JSON (kUpsert) or the DLQ line (kDeadLetter)
  // The decoded source document as JSON (keyed by source_key), kept by state stores for Debezium
  // updates that carry only updateDescription. Set on any kind of entry (a record that failed to
  // map is still the base of the next update); empty when the decoder kept no document.
  TextRef raw_document;
};

struct Batch {
  PartitionKey partition;
  std::string subject;     // the mapping's target.subject, e.g. "canonical.order.v1"
  std::string mapping_id;  // the mapping's mappingId
  int64_t first_offset = 0;
  int64_t next_offset = 0;  // the position after the last entry
  int64_t created_ns = 0;   // Clock::monotonic_ns when the runtime closed the batch
  std::vector<Entry> entries;
  std::string text;  // the bytes every TextRef points into

  std::string_view view(TextRef ref) const { return {text.data() + ref.begin, ref.size}; }
  TextRef append(std::string_view bytes) {
    TextRef ref{static_cast<uint32_t>(text.size()), static_cast<uint32_t>(bytes.size())};
    text.append(bytes);
    return ref;
  }
};

// ---------------------------------------------------------------------------------------------
// Sinks

class Sink;

// What a sink may need from the pipeline when it opens.
struct SinkContext {
  std::string pipeline;  // the pipeline's name
  // Every source of the pipeline: a Kafka events sink finds the consumer whose group metadata it
  // sends with its transaction (sendOffsetsToTransaction) by dynamic_cast to the Kafka source.
  std::vector<Source*> sources;
  const Clock* clock = nullptr;
};

// Every sink gets every batch of every partition, in position order per partition, from one
// thread (the sink's own), and takes what concerns it (events sinks: upserts and deletes; the DLQ
// sink: dead letters; state stores: upserts, deletes and raw documents). A sink must be idempotent
// on its own: it records per partition the highest next_offset it has applied, atomically with
// the data, and skips entries below it.
class Sink {
 public:
  virtual ~Sink() = default;
  // "events", "state", "dlq" or what the connector is (for messages and metrics labels).
  virtual std::string_view role() const = 0;
  // A description for progress lines and errors: "file:var/canonical.jsonl".
  virtual const std::string& describe() const = 0;
  virtual Status open(const SinkContext& context) = 0;
  // The position this sink holds for the partition (nullopt: nothing). Called on start and on
  // every assignment, from the control thread, while the sink thread is idle for this partition.
  virtual Result<std::optional<int64_t>> applied_position(const PartitionKey& partition) = 0;
  // Applies one batch. Entries with next_offset at or below the held position are skipped. A
  // non-ok status is transient: the runtime retries the same batch with backoff (so apply must be
  // safe to repeat) and stops the pipeline (exit 1) after it keeps failing.
  virtual Status apply(const Batch& batch) = 0;
  // Makes everything applied so far durable, together with its positions. Positions are reported
  // to the source for commit only after every sink's flush returned ok. A sink that commits in
  // apply() has nothing to do here; a transactional one commits its transaction here.
  virtual Status flush() = 0;
  // Every sink has flushed the partition up to `position` and the source has committed it:
  // nothing before it will be replayed, so history kept for replays may go (called from the
  // control thread, concurrently with apply).
  virtual void on_committed(const PartitionKey& partition, int64_t position) {
    (void)partition;
    (void)position;
  }
  // The partitions are being handed to another owner (after a final flush): drop caches and
  // per-partition state.
  virtual Status release(std::span<const PartitionKey> partitions) {
    (void)partitions;
    return Status::ok();
  }
  virtual Status close() = 0;
};

// The state store (DESIGN 4.1 `state dump`, 5): a sink that keeps the latest canonical entity per
// (subject, key), the index from source key to canonical key, and the last raw document per
// source key. Lookups are called from partition threads while the sink thread applies, so they
// must be thread-safe; the runtime caches what its partitions wrote, so they see only keys the
// store held before.
class StateStore : public Sink {
 public:
  std::string_view role() const override { return "state"; }
  // The canonical key (compact JSON) that `source`'s record with this source key last mapped to.
  virtual Result<std::optional<std::string>> canonical_key(std::string_view source,
                                                           std::string_view source_key_json) = 0;
  // The last raw source document (JSON) held for the source key.
  virtual Result<std::optional<std::string>> raw_document(std::string_view source,
                                                          std::string_view source_key_json) = 0;
  // The raw document as it was before `position` of `partition`: what a message at that position
  // saw the first time. A replay after a crash re-reads messages the state store has already
  // applied (another sink was behind), and an update that carries only updateDescription must be
  // applied to the document it was applied to then, or the replayed canonical event differs. A
  // store that keeps history (positions of raw documents, pruned below on_committed) overrides
  // this; the default answers with the latest document.
  virtual Result<std::optional<std::string>> raw_document_before(const PartitionKey& partition,
                                                                 std::string_view source_key_json,
                                                                 int64_t position) {
    (void)position;
    return raw_document(partition.source, source_key_json);
  }
  // The entity's canonical JSON, nullopt when absent or deleted.
  virtual Result<std::optional<std::string>> get(std::string_view subject,
                                                 std::string_view key_json) = 0;
  // Calls `visit` for every live entity of the subject, sorted by key (compact JSON, bytewise).
  virtual Status dump(std::string_view subject,
                      const std::function<void(std::string_view key_json,
                                               std::string_view document_json)>& visit) = 0;
};

// ---------------------------------------------------------------------------------------------
// Connector registry: connectors register factories by URI scheme from their own module
// (CANONRY_REGISTER_CONNECTOR in a .cpp of src/connectors/<system>/), so adding one edits no other
// file. Factories run while the config is checked, before anything starts: they throw ConfigError
// (with the location from ConnectorOptions::where) for a wrong URI or option, and must not
// connect to anything yet (Source::start and Sink::open do).

// The connector-specific keys of one config entry (e.g. a Kafka source's `group`), each with its
// location. A factory takes the keys it knows; the config loader rejects every key left over.
class ConnectorOptions {
 public:
  struct Option {
    std::string value;
    std::string where;  // "pipeline.yaml:4:5"
  };
  ConnectorOptions() = default;
  ConnectorOptions(std::string where, std::map<std::string, Option> options)
      : where_(std::move(where)), options_(std::move(options)) {}

  // Removes and returns the option.
  std::optional<Option> take(const std::string& key);
  // The location of the entry itself ("pipeline.yaml:3:5").
  const std::string& where() const { return where_; }
  // Throws ConfigError "where: key: message".
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
  const std::map<std::string, Option>& remaining() const { return options_; }

 private:
  std::string where_;
  std::map<std::string, Option> options_;
};

// What a factory is given.
struct ConnectorSpec {
  std::string uri;        // as written ("file:var/canonical.jsonl", "kafka://h:9092/topic")
  std::string scheme;     // "file", "kafka", "sqlite", "postgres", "mongodb"
  std::string rest;       // the URI after "scheme:" ("var/canonical.jsonl", "//h:9092/topic")
  std::string uri_where;  // location of the uri value, for errors
  // Resolves a path relative to the config file's folder (absolute paths stay as they are).
  std::function<std::string(const std::string&)> resolve_path;
  ConnectorOptions* options = nullptr;  // never null in a factory call
};

struct SourceSpec : ConnectorSpec {
  std::string name;    // sources[].name
  std::string format;  // sources[].format ("json", "debezium", "kcat", "bson", "auto")
  // `canonry run --until-end`: the source is to end once it has delivered what exists now
  // (a Kafka source reads up to the high watermarks it finds on assignment, then reports end).
  bool until_end = false;
};

using SourceFactory = std::function<std::unique_ptr<Source>(const SourceSpec&)>;
// role: "events", "dlq"
using SinkFactory =
    std::function<std::unique_ptr<Sink>(const ConnectorSpec&, std::string_view role)>;
using StateStoreFactory = std::function<std::unique_ptr<StateStore>(const ConnectorSpec&)>;

struct ConnectorFactories {
  std::string scheme;
  SourceFactory source;           // empty when the system is no source
  SinkFactory sink;               // events and DLQ sinks; empty when none
  StateStoreFactory state_store;  // empty when none
};

void register_connector(ConnectorFactories factories);
// nullptr when no connector has the scheme.
const ConnectorFactories* find_connector(std::string_view scheme);
std::vector<std::string> connector_schemes();

// Splits "scheme:rest"; an error when there is no scheme.
Result<std::pair<std::string, std::string>> split_uri(std::string_view uri);

// Opens a state store by URI alone, outside a pipeline (`canonry state dump --store URI`, the
// HTTP server), relative paths against the working directory. Throws ConfigError when the URI is
// wrong; the store is opened (Sink::open) before it is returned.
std::unique_ptr<StateStore> open_state_store(const std::string& uri);

struct ConnectorRegistration {
  explicit ConnectorRegistration(ConnectorFactories (*make)()) { register_connector(make()); }
};

}  // namespace canonry::pipeline

// Registers a connector from a function returning its ConnectorFactories. The connector modules
// are linked whole (src/connectors/CMakeLists.txt) so that these registrations are never dropped.
#define CANONRY_REGISTER_CONNECTOR(make)                                             \
  static const ::canonry::pipeline::ConnectorRegistration canonry_connector_##make { \
    make                                                                             \
  }
