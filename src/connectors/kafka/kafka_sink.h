// Canonical events (role "events") or dead letters (role "dlq") to a Kafka topic, written by a
// transactional producer whose transactions also carry the positions the sink has applied, as
// consumer-group offsets (DESIGN 5, sendOffsetsToTransaction). A read_committed consumer of the
// topic therefore sees each record once: the records of a transaction and the offsets that say
// they were written become visible together or not at all.
//
// Where the positions live: the events sink commits them as the source's own consumer group
// offsets, with the group's generation (KIP-447), so a process that lost its partitions in a
// rebalance cannot commit for them any more. The DLQ sink commits them to a group of its own,
// "<source group>.dlq", since one group can hold only one offset per partition.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "connectors/kafka/kafka_client.h"
#include "connectors/kafka/kafka_source.h"
#include "pipeline/connector.h"

namespace canonry::kafka {

struct KafkaSinkConfig {
  std::string role;         // "events" or "dlq"
  std::string description;  // the URI as written
  std::string bootstrap;
  std::string topic;
  // Part of the transactional.id: distinct for every process that runs at the same time, the same
  // for a process and its restart (so the restart fences the dead process's open transaction at
  // once instead of waiting for it to time out).
  std::string instance;
  std::map<std::string, std::string> properties;  // librdkafka properties given by the user
};

class KafkaSink : public pipeline::Sink {
 public:
  explicit KafkaSink(KafkaSinkConfig config);
  ~KafkaSink() override;

  std::string_view role() const override { return config_.role; }
  const std::string& describe() const override { return config_.description; }
  Status open(const pipeline::SinkContext& context) override;
  Result<std::optional<int64_t>> applied_position(const pipeline::PartitionKey& partition) override;
  Status apply(const pipeline::Batch& batch) override;
  Status flush() override;
  Status release(std::span<const pipeline::PartitionKey> partitions) override;
  Status close() override;

  const std::string& transactional_id() const { return transactional_id_; }
  // Telemetry.
  int64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  int64_t transactions() const { return transactions_.load(std::memory_order_relaxed); }
  int64_t aborted() const { return aborted_.load(std::memory_order_relaxed); }

 private:
  // One record of the open transaction, kept until it commits so that an aborted transaction
  // can be written again without asking the runtime to read the partition again.
  struct Record {
    pipeline::TextRef key;
    pipeline::TextRef value;
    bool tombstone = false;
    int64_t timestamp_ms = 0;  // 0: the producer's clock
    pipeline::TextRef origin;  // header canonry.source: "source/partition/offset"
    const char* op = "";       // header canonry.op
  };
  // Each Kafka source this sink follows: where its positions are committed and read back.
  struct Link {
    KafkaSource* source = nullptr;
    std::string group;  // the group whose offsets hold this sink's positions
    Handle offsets_reader;
  };
  enum class Outcome { kOk, kAbort, kFatal };

  Status produce(const Record& record);
  Outcome commit_transaction(Status& error);
  Outcome call(const char* what, const std::function<rd_kafka_error_t*()>& step, Status& error);
  Status begin_if_needed();
  Status replay();

  KafkaSinkConfig config_;
  std::string transactional_id_;
  Handle producer_;
  rd_kafka_topic_t* topic_ = nullptr;
  std::map<std::string, Link> links_;  // by source name
  std::map<pipeline::PartitionKey, int64_t> held_;
  std::map<pipeline::PartitionKey, int64_t> pending_;  // positions the open transaction carries
  bool in_transaction_ = false;
  bool fatal_ = false;
  std::string text_;
  std::vector<Record> records_;
  std::atomic<int64_t> sent_ = 0;
  std::atomic<int64_t> transactions_ = 0;
  std::atomic<int64_t> aborted_ = 0;
};

}  // namespace canonry::kafka
