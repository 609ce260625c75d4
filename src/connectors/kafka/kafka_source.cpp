#include "connectors/kafka/kafka_source.h"

#include <thread>
#include <vector>

namespace canonry::kafka {
namespace {

// How long an assigned partition is retried while the runtime cannot open it before it is left
// unread (and the error reported).
constexpr auto kAssignRetryLimit = std::chrono::minutes(5);

using pipeline::Header;
using pipeline::Message;
using pipeline::MessageBatch;

// Reads one assigned partition from the queue split off the consumer's main queue. Messages are
// held until the next read(), since the batch's views point into them.
class KafkaPartitionReader : public pipeline::PartitionReader {
 public:
  // `end`: the offset at which the partition ends (--until-end), nullopt when it never does.
  // `start`: where reading starts, -1 when not known (the earliest retained offset).
  KafkaPartitionReader(rd_kafka_t* consumer, std::string topic, int32_t partition, Queue queue,
                       int64_t start, std::optional<int64_t> end)
      : consumer_(consumer),
        topic_(std::move(topic)),
        partition_(partition),
        queue_(std::move(queue)),
        next_offset_(start),
        end_(end) {}

  ~KafkaPartitionReader() override { release(); }

  Status read(MessageBatch& batch, size_t max_messages,
              std::chrono::milliseconds timeout) override {
    release();
    batch.messages.clear();
    batch.end = reached_end();
    if (max_messages == 0 || batch.end) return Status::ok();
    held_.resize(max_messages);
    // rd_kafka_consume_batch_queue waits its whole timeout unless the batch fills, which would add
    // the timeout to the latency of a quiet partition: wait for the first message alone, then take
    // what else is already there without waiting.
    rd_kafka_message_t* first =
        rd_kafka_consume_queue(queue_.get(), static_cast<int>(timeout.count()));
    if (first == nullptr) {
      held_.clear();
      // The tail of a transactional topic is a commit marker no message stands for: the
      // consumer's position moves past it all the same.
      if (end_ && !batch.end) {
        PartitionList position(rd_kafka_topic_partition_list_new(1));
        rd_kafka_topic_partition_list_add(position.get(), topic_.c_str(), partition_);
        if (rd_kafka_position(consumer_, position.get()) == RD_KAFKA_RESP_ERR_NO_ERROR &&
            position->elems[0].offset > next_offset_) {
          next_offset_ = position->elems[0].offset;
        }
        batch.end = reached_end();
      }
      return Status::ok();
    }
    held_[0] = first;
    ssize_t more = max_messages > 1 ? rd_kafka_consume_batch_queue(
                                          queue_.get(), 0, held_.data() + 1, max_messages - 1)
                                    : 0;
    held_.resize(1 + static_cast<size_t>(std::max<ssize_t>(more, 0)));

    Status failure;
    header_storage_.clear();
    std::vector<std::pair<size_t, size_t>> header_ranges;  // per kept message, into header_storage_
    batch.messages.reserve(held_.size());
    for (rd_kafka_message_t* message : held_) {
      if (message->err) {
        // Transport errors and the like: librdkafka recovers by itself; the first is reported so
        // the runtime can count and log it.
        if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && failure.is_ok()) {
          failure = kafka_status(topic_ + "/" + std::to_string(partition_), message->err);
        }
        continue;
      }
      Message out;
      out.topic = topic_;
      out.offset = message->offset;
      out.next_offset = message->offset + 1;
      if (message->key != nullptr) {
        out.key = std::string_view(static_cast<const char*>(message->key), message->key_len);
      }
      if (message->payload != nullptr) {
        out.value = std::string_view(static_cast<const char*>(message->payload), message->len);
      }
      rd_kafka_timestamp_type_t timestamp_type;
      int64_t timestamp = rd_kafka_message_timestamp(message, &timestamp_type);
      out.timestamp_ms = timestamp_type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : timestamp;
      size_t headers_begin = header_storage_.size();
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* value;
        size_t size;
        for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
                           RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i) {
          Header header{name, std::nullopt};
          if (value != nullptr)
            header.value = std::string_view(static_cast<const char*>(value), size);
          header_storage_.push_back(header);
        }
      }
      header_ranges.emplace_back(headers_begin, header_storage_.size() - headers_begin);
      next_offset_ = out.next_offset;
      batch.messages.push_back(out);
    }
    // The header vector is complete only now, so the spans are taken after it stopped growing.
    for (size_t i = 0; i < batch.messages.size(); ++i) {
      batch.messages[i].headers = std::span<const Header>(
          header_storage_.data() + header_ranges[i].first, header_ranges[i].second);
    }
    batch.end = reached_end();
    if (batch.messages.empty() && !failure.is_ok()) return failure;
    return Status::ok();
  }

  std::optional<int64_t> lag() const override {
    int64_t low = 0, high = 0;
    if (rd_kafka_get_watermark_offsets(consumer_, topic_.c_str(), partition_, &low, &high) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0) {
      return std::nullopt;
    }
    int64_t next = next_offset_ >= 0 ? next_offset_ : low;
    return std::max<int64_t>(0, high - next);
  }

 private:
  bool reached_end() const { return end_ && next_offset_ >= *end_; }

  void release() {
    for (rd_kafka_message_t* message : held_) rd_kafka_message_destroy(message);
    held_.clear();
  }

  rd_kafka_t* consumer_;
  std::string topic_;
  int32_t partition_;
  Queue queue_;
  int64_t next_offset_;
  std::optional<int64_t> end_;
  std::vector<rd_kafka_message_t*> held_;
  std::vector<Header> header_storage_;
};

}  // namespace

KafkaSource::KafkaSource(KafkaSourceConfig config) : config_(std::move(config)) {}

KafkaSource::~KafkaSource() {
  if (consumer_) (void)close();
}

std::map<std::string, std::string> KafkaSource::client_properties() const {
  std::map<std::string, std::string> properties = config_.properties;
  properties["bootstrap.servers"] = config_.bootstrap;
  return properties;
}

Status KafkaSource::start(pipeline::PartitionListener& listener) {
  listener_ = &listener;
  // Defaults first, so that the user's properties override them. Offsets are never committed
  // behind the runtime's back (enable.auto.commit=false): a position is committed only once every
  // sink holds it. read_committed, so that records of aborted upstream transactions never reach a
  // sink. cooperative-sticky, so that a rebalance moves only the partitions that change owner.
  std::map<std::string, std::string> properties = {
      {"client.id", "canonry-" + config_.name},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"isolation.level", "read_committed"},
      {"partition.assignment.strategy", "cooperative-sticky"},
      {"enable.partition.eof", "false"},
  };
  properties["group.instance.id"] = config_.instance + "-" + config_.name;
  for (const auto& [key, value] : client_properties()) properties[key] = value;
  properties["group.id"] = config_.group;
  auto conf = make_conf(properties);
  if (!conf) return conf.status();
  rd_kafka_conf_set_rebalance_cb(conf->get(), &KafkaSource::rebalance_callback);
  rd_kafka_conf_set_opaque(conf->get(), this);
  char message[512];
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), message, sizeof message);
  if (consumer == nullptr) {
    return Status(ErrorCode::kKafka, "source " + config_.name + ": " + message);
  }
  (void)conf->release();  // rd_kafka_new took it
  consumer_.reset(consumer);
  // Group events (rebalances, errors) are served by rd_kafka_consumer_poll on this queue.
  CANONRY_RETURN_IF_ERROR(kafka_status("poll_set_consumer", rd_kafka_poll_set_consumer(consumer)));
  PartitionList topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), config_.topic.c_str(), RD_KAFKA_PARTITION_UA);
  return kafka_status("subscribe to " + config_.topic, rd_kafka_subscribe(consumer, topics.get()));
}

Status KafkaSource::poll(std::chrono::milliseconds timeout) {
  rd_kafka_message_t* event =
      rd_kafka_consumer_poll(consumer_.get(), static_cast<int>(timeout.count()));
  if (!rebalance_status_.is_ok()) return std::exchange(rebalance_status_, Status::ok());
  if (event == nullptr) return Status::ok();
  Status status;
  if (event->err) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    // Fatal errors end the consumer; everything else (a broker down, a rebalance in progress)
    // librdkafka retries on its own.
    if (event->err == RD_KAFKA_RESP_ERR__FATAL) {
      char reason[512];
      rd_kafka_resp_err_t cause = rd_kafka_fatal_error(consumer_.get(), reason, sizeof reason);
      status = Status(ErrorCode::kKafka, "source " + config_.name + ": fatal: " + reason + " (" +
                                             rd_kafka_err2name(cause) + ")");
    }
  } else {
    // Every assigned partition is read from its own queue, so a message here means a partition
    // was assigned without one: an internal error, never a message to drop silently.
    status = Status(ErrorCode::kInternal, "source " + config_.name + ": message of partition " +
                                              std::to_string(event->partition) +
                                              " on the consumer queue");
  }
  rd_kafka_message_destroy(event);
  return status;
}

void KafkaSource::rebalance_callback(rd_kafka_t*, rd_kafka_resp_err_t err,
                                     rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<KafkaSource*>(opaque)->rebalance(err, partitions);
}

void KafkaSource::rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions) {
  const bool cooperative =
      std::string_view(rd_kafka_rebalance_protocol(consumer_.get())) == "COOPERATIVE";
  std::vector<int32_t> numbers;
  for (int i = 0; i < partitions->cnt; ++i) numbers.push_back(partitions->elems[i].partition);
  Status status;
  if (closing_) {
    // The runtime has already stopped and flushed every partition before close(): leaving the
    // group only needs the assignment dropped.
    if (cooperative) {
      (void)kafka_status("unassign", rd_kafka_incremental_unassign(consumer_.get(), partitions));
    } else {
      (void)rd_kafka_assign(consumer_.get(), nullptr);
    }
    return;
  }
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    // One partition at a time, each retried while the runtime cannot open it (a store that is
    // restarting cannot say what it holds): a partition is assigned only once its reader exists,
    // since its messages must never reach the consumer queue.
    start_offsets_.clear();
    PartitionList opened(rd_kafka_topic_partition_list_new(partitions->cnt));
    for (int32_t partition : numbers) {
      Status assigned;
      auto backoff = std::chrono::milliseconds(100);
      const auto deadline = std::chrono::steady_clock::now() + kAssignRetryLimit;
      for (;;) {
        assigned = listener_->on_assigned(std::span<const int32_t>(&partition, 1));
        if (assigned.is_ok() || std::chrono::steady_clock::now() >= deadline) break;
        errors_.fetch_add(1, std::memory_order_relaxed);
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
      }
      if (!assigned.is_ok()) {
        if (status.is_ok()) status = assigned;
        continue;
      }
      rd_kafka_topic_partition_list_add(opened.get(), config_.topic.c_str(), partition)->offset =
          start_offsets_.at(partition);
    }
    Status done =
        cooperative
            ? kafka_status("assign", rd_kafka_incremental_assign(consumer_.get(), opened.get()))
            : kafka_status("assign", rd_kafka_assign(consumer_.get(), opened.get()));
    if (status.is_ok()) status = done;
  } else {
    // Revoked or lost: either way the runtime stops the partitions' threads and flushes what was
    // read from them before they are given up. After a loss the flush of a transactional sink is
    // fenced by the coordinator, which is what keeps a stale owner from writing.
    status = listener_->on_revoked(numbers);
    Status unassigned =
        cooperative
            ? kafka_status("unassign", rd_kafka_incremental_unassign(consumer_.get(), partitions))
            : kafka_status("unassign", rd_kafka_assign(consumer_.get(), nullptr));
    if (status.is_ok()) status = unassigned;
  }
  if (!status.is_ok() && rebalance_status_.is_ok()) rebalance_status_ = status;
}

Result<std::unique_ptr<pipeline::PartitionReader>> KafkaSource::open_partition(
    int32_t partition, std::optional<int64_t> position) {
  rd_kafka_queue_t* queue =
      rd_kafka_queue_get_partition(consumer_.get(), config_.topic.c_str(), partition);
  if (queue == nullptr) {
    return Status(ErrorCode::kKafka, "source " + config_.name + ": no partition " +
                                         std::to_string(partition) + " in " + config_.topic);
  }
  // Detach the partition from the consumer queue: its messages wait in their own queue for the
  // partition's thread.
  rd_kafka_queue_forward(queue, nullptr);
  Queue owned(queue);
  int64_t start = position.value_or(-1);
  std::optional<int64_t> end;
  if (config_.until_end || !position) {
    // A read_committed consumer's "high" is the last stable offset: the end of what it can read.
    int64_t low = 0, high = 0;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        consumer_.get(), config_.topic.c_str(), partition, &low, &high, 30000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return kafka_status(
          "source " + config_.name + ": offsets of partition " + std::to_string(partition), err);
    }
    if (!position) start = low;
    if (config_.until_end) end = high;
  }
  start_offsets_[partition] = position.value_or(RD_KAFKA_OFFSET_BEGINNING);
  return std::unique_ptr<pipeline::PartitionReader>(std::make_unique<KafkaPartitionReader>(
      consumer_.get(), config_.topic, partition, std::move(owned), start, end));
}

Status KafkaSource::commit(int32_t partition, int64_t position) {
  if (offsets_in_transaction_.load()) return Status::ok();
  PartitionList offsets(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(offsets.get(), config_.topic.c_str(), partition)->offset =
      position;
  // Asynchronous: the committed offset is a hint for tools and lag monitors, never what a restart
  // relies on (the sinks' own positions are).
  return kafka_status("commit", rd_kafka_commit(consumer_.get(), offsets.get(), 1));
}

GroupMetadata KafkaSource::group_metadata() const {
  return GroupMetadata(rd_kafka_consumer_group_metadata(consumer_.get()));
}

Status KafkaSource::close() {
  if (!consumer_) return Status::ok();
  closing_ = true;
  Status status = kafka_status("close consumer", rd_kafka_consumer_close(consumer_.get()));
  consumer_.reset();
  return status;
}

}  // namespace canonry::kafka
