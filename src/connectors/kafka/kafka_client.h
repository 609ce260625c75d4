// Thin RAII and error glue over librdkafka's C API, shared by the source and the sinks.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace canonry::kafka {

struct HandleDeleter {
  void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using Conf = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

struct QueueDeleter {
  void operator()(rd_kafka_queue_t* queue) const { rd_kafka_queue_destroy(queue); }
};
using Queue = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

struct GroupMetadataDeleter {
  void operator()(rd_kafka_consumer_group_metadata_t* metadata) const {
    rd_kafka_consumer_group_metadata_destroy(metadata);
  }
};
using GroupMetadata = std::unique_ptr<rd_kafka_consumer_group_metadata_t, GroupMetadataDeleter>;

// "what: Broker: Not leader for partition (NOT_LEADER_FOR_PARTITION)".
Status kafka_status(std::string_view what, rd_kafka_resp_err_t err);
// Takes ownership of `error` (may be null: ok).
Status kafka_status(std::string_view what, rd_kafka_error_t* error);

// A configuration with the given properties set. An unknown property or bad value is an error
// naming it, so that a config check can report it before anything connects.
Result<Conf> make_conf(const std::map<std::string, std::string>& properties);

}  // namespace canonry::kafka
