// A pipeline source reading one Kafka topic as a member of a consumer group (DESIGN 4.7, 5).
//
// Partitions come and go with the group's rebalances: the rebalance callback (served inside
// poll(), on the runtime's control thread) tells the runtime through PartitionListener, which asks
// every sink where it stands and opens a reader at the lowest position; the source then assigns
// the partitions at exactly those offsets. Each partition's messages are split off the consumer's
// main queue into a queue of their own, read by that partition's thread alone.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "connectors/kafka/kafka_client.h"
#include "pipeline/connector.h"

namespace canonry::kafka {

struct KafkaSourceConfig {
  std::string name;       // the pipeline source's name
  std::string bootstrap;  // bootstrap.servers
  std::string topic;
  std::string group;  // group.id
  // The process's stable name (see KafkaSinkConfig::instance): the group member's
  // group.instance.id is "<instance>-<source name>", so that a restarted process takes its
  // predecessor's partitions back at once, without waiting for a rebalance (KIP-345).
  std::string instance;
  std::map<std::string, std::string> properties;  // librdkafka properties given by the user
  // `canonry run --until-end`: each partition ends at the end it had when it was assigned.
  bool until_end = false;
};

class KafkaSource : public pipeline::Source {
 public:
  explicit KafkaSource(KafkaSourceConfig config);
  ~KafkaSource() override;

  const std::string& name() const override { return config_.name; }
  bool bounded() const override { return config_.until_end; }
  Status start(pipeline::PartitionListener& listener) override;
  Status poll(std::chrono::milliseconds timeout) override;
  Result<std::unique_ptr<pipeline::PartitionReader>> open_partition(
      int32_t partition, std::optional<int64_t> position) override;
  Status commit(int32_t partition, int64_t position) override;
  Status close() override;

  const KafkaSourceConfig& config() const { return config_; }
  // The consumer properties every Kafka client of this source's group uses (bootstrap, security).
  std::map<std::string, std::string> client_properties() const;
  // For a transactional sink (sendOffsetsToTransaction): the group's current generation and
  // member id, fetched fresh for each transaction so that a process that has lost its partitions
  // is fenced by the group coordinator.
  GroupMetadata group_metadata() const;
  // A Kafka events sink commits this group's offsets inside its transactions; the source's own
  // commit() then does nothing, so that a late plain commit can never move the group's offset
  // back below what a transaction wrote.
  void offsets_committed_by_transaction() { offsets_in_transaction_ = true; }

  // Telemetry: errors the consumer reported (broker down, rebalance failures), and the last one.
  int64_t errors() const { return errors_.load(std::memory_order_relaxed); }

 private:
  static void rebalance_callback(rd_kafka_t* consumer, rd_kafka_resp_err_t err,
                                 rd_kafka_topic_partition_list_t* partitions, void* opaque);
  void rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);

  KafkaSourceConfig config_;
  Handle consumer_;
  pipeline::PartitionListener* listener_ = nullptr;
  // Start offsets chosen by open_partition during an assignment, applied when it assigns.
  std::map<int32_t, int64_t> start_offsets_;
  // A failure inside the rebalance callback, reported by the next poll().
  Status rebalance_status_;
  std::atomic<bool> offsets_in_transaction_ = false;
  bool closing_ = false;  // close() leaves the group without calling the listener
  std::atomic<int64_t> errors_ = 0;
};

}  // namespace canonry::kafka
