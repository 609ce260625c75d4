#include "connectors/kafka/kafka_sink.h"

#include <chrono>
#include <functional>

namespace canonry::kafka {
namespace {

// How long one transactional call may keep retrying (a broker restarting, a coordinator moving)
// before flush reports failure to the runtime, which retries it with backoff.
constexpr int kCallTimeoutMs = 30000;
constexpr int kRetryDeadlineMs = 120000;

std::string origin_of(const pipeline::PartitionKey& partition, int64_t offset) {
  return partition.source + "/" + std::to_string(partition.partition) + "/" +
         std::to_string(offset);
}

}  // namespace

KafkaSink::KafkaSink(KafkaSinkConfig config) : config_(std::move(config)) {}

KafkaSink::~KafkaSink() {
  (void)close();
}

Status KafkaSink::open(const pipeline::SinkContext& context) {
  for (pipeline::Source* source : context.sources) {
    auto* kafka_source = dynamic_cast<KafkaSource*>(source);
    if (kafka_source == nullptr) {
      return Status(ErrorCode::kInvalidArgument,
                    config_.description + ": a Kafka " + config_.role +
                        " sink keeps its positions as consumer-group offsets, so every source of "
                        "the pipeline must be a Kafka source (source " +
                        source->name() + " is not)");
    }
    Link link;
    link.source = kafka_source;
    link.group = config_.role == "events" ? kafka_source->config().group
                                          : kafka_source->config().group + "." + config_.role;
    // A consumer that never subscribes: it only reads the group's committed offsets back.
    // read_committed makes the broker answer only once no transaction holds pending offsets.
    std::map<std::string, std::string> properties = kafka_source->client_properties();
    properties["group.id"] = link.group;
    properties["isolation.level"] = "read_committed";
    properties["enable.auto.commit"] = "false";
    properties["client.id"] = "canonry-" + config_.role + "-offsets";
    auto conf = make_conf(properties);
    if (!conf) return conf.status();
    char message[512];
    rd_kafka_t* reader = rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), message, sizeof message);
    if (reader == nullptr) return Status(ErrorCode::kKafka, config_.description + ": " + message);
    (void)conf->release();
    link.offsets_reader.reset(reader);
    if (config_.role == "events") kafka_source->offsets_committed_by_transaction();
    links_.emplace(kafka_source->name(), std::move(link));
  }

  transactional_id_ = "canonry-" + context.pipeline + "-" + config_.role + "-" + config_.instance;
  // Defaults, then the user's properties. murmur2_random partitions keys as Java producers do, so
  // that every client agrees where an entity's events live. linger.ms trades a few milliseconds
  // of latency for batches large enough to reach the throughput targets.
  std::map<std::string, std::string> properties = {
      {"client.id", "canonry-" + config_.role},
      {"partitioner", "murmur2_random"},
      {"linger.ms", "5"},
      {"batch.num.messages", "10000"},
      {"queue.buffering.max.messages", "1000000"},
      {"transaction.timeout.ms", "60000"},
  };
  for (const auto& [key, value] : config_.properties) properties[key] = value;
  properties["bootstrap.servers"] = config_.bootstrap;
  properties["transactional.id"] = transactional_id_;
  auto conf = make_conf(properties);
  if (!conf) return conf.status();
  char message[512];
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), message, sizeof message);
  if (producer == nullptr) return Status(ErrorCode::kKafka, config_.description + ": " + message);
  (void)conf->release();
  producer_.reset(producer);
  topic_ = rd_kafka_topic_new(producer, config_.topic.c_str(), nullptr);
  // Fences every earlier producer with this transactional.id (a killed predecessor) and aborts
  // the transaction it left open.
  Status error;
  if (call(
          "init_transactions",
          [&] { return rd_kafka_init_transactions(producer_.get(), kCallTimeoutMs); },
          error) != Outcome::kOk) {
    return error;
  }
  return Status::ok();
}

Result<std::optional<int64_t>> KafkaSink::applied_position(
    const pipeline::PartitionKey& partition) {
  if (auto held = held_.find(partition); held != held_.end()) {
    return held->second >= 0 ? std::optional(held->second) : std::nullopt;
  }
  auto link = links_.find(partition.source);
  if (link == links_.end()) {
    return Status(ErrorCode::kInternal,
                  config_.description + ": unknown source " + partition.source);
  }
  PartitionList offsets(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(offsets.get(), link->second.source->config().topic.c_str(),
                                    partition.partition);
  // While a transaction (of a predecessor) holds offsets for the partition, the broker answers
  // "unstable" and librdkafka asks again, so this returns the settled offset.
  rd_kafka_resp_err_t err =
      rd_kafka_committed(link->second.offsets_reader.get(), offsets.get(), kRetryDeadlineMs);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = offsets->elems[0].err;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return kafka_status(config_.description + ": committed offset of " + partition.to_string() +
                            " in group " + link->second.group,
                        err);
  }
  // -1 remembers "nothing held", so the broker is asked once per assignment.
  held_[partition] = std::max<int64_t>(offsets->elems[0].offset, -1);
  if (offsets->elems[0].offset < 0) return std::optional<int64_t>();
  return std::optional(offsets->elems[0].offset);
}

Status KafkaSink::begin_if_needed() {
  if (in_transaction_) return Status::ok();
  if (fatal_) return Status(ErrorCode::kKafka, config_.description + ": producer failed earlier");
  CANONRY_RETURN_IF_ERROR(kafka_status(config_.description + ": begin transaction",
                                       rd_kafka_begin_transaction(producer_.get())));
  in_transaction_ = true;
  return Status::ok();
}

Status KafkaSink::produce(const Record& record) {
  std::string_view key{text_.data() + record.key.begin, record.key.size};
  std::string_view value{text_.data() + record.value.begin, record.value.size};
  std::string_view origin{text_.data() + record.origin.begin, record.origin.size};
  std::string_view op{record.op};
  for (;;) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_RKT(topic_), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key.empty() ? nullptr : key.data(), key.size()),
        RD_KAFKA_V_VALUE(record.tombstone ? nullptr : const_cast<char*>(value.data()),
                         record.tombstone ? 0 : value.size()),
        RD_KAFKA_V_TIMESTAMP(record.timestamp_ms),
        RD_KAFKA_V_HEADER("canonry.op", op.data(), static_cast<ssize_t>(op.size())),
        RD_KAFKA_V_HEADER("canonry.source", origin.data(), static_cast<ssize_t>(origin.size())),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return kafka_status(config_.description + ": produce", err);
    }
    // The local queue is full: wait for deliveries to make room (backpressure).
    rd_kafka_poll(producer_.get(), 10);
  }
  sent_.fetch_add(1, std::memory_order_relaxed);
  return Status::ok();
}

Status KafkaSink::apply(const pipeline::Batch& batch) {
  if (!held_.contains(batch.partition)) {
    // Never asked for this partition (or released since): what this sink holds decides what it
    // skips, whatever position the runtime chose to read from.
    auto position = applied_position(batch.partition);
    if (!position) return position.status();
  }
  const int64_t held = held_.at(batch.partition);
  if (batch.next_offset <= held) return Status::ok();
  CANONRY_RETURN_IF_ERROR(begin_if_needed());
  const bool events = config_.role == "events";
  for (const pipeline::Entry& entry : batch.entries) {
    if (entry.next_offset <= held) continue;
    Record record;
    switch (entry.kind) {
      case pipeline::Entry::Kind::kUpsert:
        if (!events) continue;
        record.key = {static_cast<uint32_t>(text_.size()), entry.key.size};
        text_.append(batch.view(entry.key));
        record.value = {static_cast<uint32_t>(text_.size()), entry.document.size};
        text_.append(batch.view(entry.document));
        record.op = "upsert";
        break;
      case pipeline::Entry::Kind::kDelete:
        if (!events) continue;
        record.key = {static_cast<uint32_t>(text_.size()), entry.key.size};
        text_.append(batch.view(entry.key));
        record.tombstone = true;
        record.op = "delete";
        break;
      case pipeline::Entry::Kind::kDeadLetter: {
        if (events) continue;
        // Keyed by the source partition, so one partition's dead letters stay in order.
        std::string key = batch.partition.to_string();
        record.key = {static_cast<uint32_t>(text_.size()), static_cast<uint32_t>(key.size())};
        text_.append(key);
        record.value = {static_cast<uint32_t>(text_.size()), entry.document.size};
        text_.append(batch.view(entry.document));
        record.op = "dead_letter";
        break;
      }
      case pipeline::Entry::Kind::kSkipped:
        continue;
    }
    // Canonical events keep the source message's timestamp, as Kafka Streams does: consumers see
    // when the change happened, and end-to-end latency is measurable at any reader.
    record.timestamp_ms = entry.timestamp_ms >= 0 ? entry.timestamp_ms : 0;
    std::string origin = origin_of(batch.partition, entry.offset);
    record.origin = {static_cast<uint32_t>(text_.size()), static_cast<uint32_t>(origin.size())};
    text_.append(origin);
    records_.push_back(record);
    CANONRY_RETURN_IF_ERROR(produce(record));
  }
  rd_kafka_poll(producer_.get(), 0);
  held_[batch.partition] = batch.next_offset;
  pending_[batch.partition] = batch.next_offset;
  return Status::ok();
}

KafkaSink::Outcome KafkaSink::call(const char* what, const std::function<rd_kafka_error_t*()>& step,
                                   Status& error) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kRetryDeadlineMs);
  for (;;) {
    rd_kafka_error_t* failure = step();
    if (failure == nullptr) return Outcome::kOk;
    const bool retriable = rd_kafka_error_is_retriable(failure);
    const bool abortable = rd_kafka_error_txn_requires_abort(failure);
    const bool fatal = rd_kafka_error_is_fatal(failure);
    const rd_kafka_resp_err_t code = rd_kafka_error_code(failure);
    error = kafka_status(
        config_.description + ": " + what + " (transactional.id " + transactional_id_ + ")",
        failure);
    if (retriable && std::chrono::steady_clock::now() < deadline) continue;
    if (fatal) {
      if (code == RD_KAFKA_RESP_ERR__FENCED || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED) {
        error =
            Status(ErrorCode::kKafka, error.message() +
                                          ": another process uses the same transactional.id; give "
                                          "each process its own instance (CANONRY_INSTANCE)");
      }
      fatal_ = true;
      return Outcome::kFatal;
    }
    if (abortable) return Outcome::kAbort;
    return Outcome::kFatal;
  }
}

KafkaSink::Outcome KafkaSink::commit_transaction(Status& error) {
  // The positions, as offsets of each source's group, join the transaction before it commits.
  std::map<std::string, PartitionList> offsets_by_source;
  for (const auto& [partition, position] : pending_) {
    auto& list = offsets_by_source[partition.source];
    if (!list) list.reset(rd_kafka_topic_partition_list_new(4));
    rd_kafka_topic_partition_list_add(
        list.get(), links_.at(partition.source).source->config().topic.c_str(), partition.partition)
        ->offset = position;
  }
  // The lambda below captures a plain local: clang 14 (the fuzz build's compiler) cannot capture
  // a structured binding.
  for (auto& [source, source_offsets] : offsets_by_source) {
    rd_kafka_topic_partition_list_t* list = source_offsets.get();
    const Link& link = links_.at(source);
    GroupMetadata metadata =
        config_.role == "events"
            ? link.source->group_metadata()
            : GroupMetadata(rd_kafka_consumer_group_metadata_new(link.group.c_str()));
    Outcome sent = call(
        "send offsets to transaction",
        [&] {
          return rd_kafka_send_offsets_to_transaction(producer_.get(), list, metadata.get(),
                                                      kCallTimeoutMs);
        },
        error);
    if (sent != Outcome::kOk) return sent;
  }
  return call(
      "commit transaction",
      [&] { return rd_kafka_commit_transaction(producer_.get(), kCallTimeoutMs); }, error);
}

Status KafkaSink::replay() {
  for (const Record& record : records_) CANONRY_RETURN_IF_ERROR(produce(record));
  return Status::ok();
}

Status KafkaSink::flush() {
  if (!in_transaction_) return Status::ok();
  Status error;
  Outcome outcome = commit_transaction(error);
  if (outcome == Outcome::kAbort) {
    // The transaction cannot commit (a delivery failed, the coordinator timed it out): abort it
    // and write the same records and positions once more in a new one. If the group has fenced
    // this process (its partitions went to another member), the second commit fails as well and
    // the runtime gives the partitions up.
    aborted_.fetch_add(1, std::memory_order_relaxed);
    Status abort_error;
    if (call(
            "abort transaction",
            [&] { return rd_kafka_abort_transaction(producer_.get(), kCallTimeoutMs); },
            abort_error) != Outcome::kOk) {
      outcome = Outcome::kFatal;
      error = abort_error;
    } else {
      in_transaction_ = false;
      Status again = begin_if_needed();
      if (again.is_ok()) again = replay();
      if (!again.is_ok()) {
        outcome = Outcome::kFatal;
        error = again;
      } else {
        outcome = commit_transaction(error);
      }
    }
  }
  if (outcome == Outcome::kFatal) {
    // What this sink believed it held is no longer true: forget it, so that positions are read
    // back from the broker before anything else is written.
    for (const auto& [partition, position] : pending_) held_.erase(partition);
    fatal_ = true;
    return error;
  }
  // Still abortable: the records stay, and the runtime's next flush tries again.
  if (outcome == Outcome::kAbort) return error;
  in_transaction_ = false;
  pending_.clear();
  records_.clear();
  text_.clear();
  transactions_.fetch_add(1, std::memory_order_relaxed);
  return Status::ok();
}

Status KafkaSink::release(std::span<const pipeline::PartitionKey> partitions) {
  for (const auto& partition : partitions) held_.erase(partition);
  return Status::ok();
}

Status KafkaSink::close() {
  Status status;
  if (producer_ && in_transaction_ && !fatal_) {
    // Close follows a final flush; what is still open was never acknowledged, so abort it.
    status = kafka_status(config_.description + ": abort transaction",
                          rd_kafka_abort_transaction(producer_.get(), kCallTimeoutMs));
    in_transaction_ = false;
  }
  if (topic_ != nullptr) {
    rd_kafka_topic_destroy(topic_);
    topic_ = nullptr;
  }
  producer_.reset();
  links_.clear();
  return status;
}

}  // namespace canonry::kafka
