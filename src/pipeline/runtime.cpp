#include "pipeline/runtime.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "json/writer.h"
#include "mapping/dlq.h"
#include "schema/report.h"

namespace canonry::pipeline {
namespace {

using std::chrono::milliseconds;

// ---------------------------------------------------------------------------------------------
// What travels to a sink thread: a batch, or a command from the control thread.

struct SinkItem {
  enum class Kind { kBatch, kFlush, kRelease, kStop };
  Kind kind = Kind::kBatch;
  std::shared_ptr<const Batch> batch;
  std::vector<PartitionKey> partitions;        // kRelease
  std::shared_ptr<std::promise<Status>> done;  // commands: set when carried out
};

// A bounded queue of batches. Commands are never refused (they are few and the control thread
// must not block behind a full queue); batches wait for room, which is the backpressure on the
// partition threads.
class SinkQueue {
 public:
  explicit SinkQueue(size_t capacity) : capacity_(capacity) {}

  // False when `abort` became true while waiting for room.
  bool push(SinkItem item, const std::atomic<bool>& abort) {
    std::unique_lock lock(mutex_);
    if (item.kind == SinkItem::Kind::kBatch) {
      while (batches_ >= capacity_) {
        if (abort.load()) return false;
        not_full_.wait_for(lock, milliseconds(50));
      }
      ++batches_;
    }
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  std::optional<SinkItem> pop(milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!not_empty_.wait_for(lock, timeout, [&] { return !items_.empty(); })) return std::nullopt;
    SinkItem item = std::move(items_.front());
    items_.pop_front();
    if (item.kind == SinkItem::Kind::kBatch) {
      --batches_;
      not_full_.notify_all();
    }
    return item;
  }

 private:
  const size_t capacity_;
  std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<SinkItem> items_;
  size_t batches_ = 0;
};

// Retries with exponential backoff (50 ms doubling to 5 s) until ok, `limit` is spent, or `abort`.
// When the limit is spent the last error says so, since that ends the run.
template <typename Call>
Status retry(Call call, milliseconds limit, const std::atomic<bool>& abort,
             std::atomic<uint64_t>& errors) {
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + limit;
  milliseconds backoff(50);
  for (int attempts = 1;; ++attempts) {
    Status status = call();
    if (status) return status;
    errors.fetch_add(1, std::memory_order_relaxed);
    if (abort.load()) return status;
    if (std::chrono::steady_clock::now() + backoff > deadline) {
      auto spent =
          std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
      char given_up[160];
      std::snprintf(given_up, sizeof given_up,
                    " (still failing after %d attempts in %.1fs; runtime.sink_retry_limit is "
                    "%.1fs)",
                    attempts, static_cast<double>(spent.count()) / 1e3,
                    static_cast<double>(limit.count()) / 1e3);
      return Status(status.code(), status.message() + given_up);
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, milliseconds(5000));
  }
}

// "DESCRIPTION: message", unless the message already names it (stores put their URI in errors).
Status located(const std::string& description, const Status& status) {
  if (status.message().starts_with(description)) return status;
  return Status(status.code(), description + ": " + status.message());
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct Runtime::Impl {
  struct SinkWorker;
  struct PartitionWorker;
  struct SourceRuntime;

  explicit Impl(PipelineConfig& config) : config(config), stats(config.name) {}

  PipelineConfig& config;
  PipelineStats stats;
  RunOptions options;
  const Clock* clock = &system_clock();

  std::vector<std::unique_ptr<SinkWorker>> sink_workers;
  SinkWorker* state_worker = nullptr;
  std::vector<std::unique_ptr<SourceRuntime>> sources;

  // Set on a failure retries did not cure: every thread stops, nothing more is committed.
  std::atomic<bool> failed{false};
  std::mutex failure_mutex;
  Status failure;

  void fail(Status status) {
    std::lock_guard lock(failure_mutex);
    if (!failed.load()) failure = std::move(status);
    failed.store(true);
  }

  void log(const std::string& line) {
    if (options.log) options.log(line);
  }

  Status run(const RunOptions& run_options);
  Status start_sinks();
  void dispatch(std::shared_ptr<const Batch> batch);
  // Sends a command to every sink and waits for all of them.
  Status command_all(SinkItem::Kind kind, const std::vector<PartitionKey>& partitions);
  void commit_flushed(SourceRuntime& source, const std::vector<int32_t>& only = {});
  std::optional<int64_t> flushed_everywhere(const PartitionKey& key);
  Status stop_partitions(SourceRuntime& source, const std::vector<int32_t>& partitions);
  Status assign(SourceRuntime& source, std::span<const int32_t> partitions);
  Status revoke(SourceRuntime& source, std::span<const int32_t> partitions);
  Status shutdown();
  std::string progress_line(double seconds);
};

// ---------------------------------------------------------------------------------------------
// Sink threads

struct Runtime::Impl::SinkWorker {
  SinkWorker(Impl& runtime, Sink& sink)
      : runtime(runtime),
        sink(sink),
        stats(runtime.stats.add_sink(std::string(sink.role()), sink.describe())),
        queue(runtime.config.runtime.queue_batches) {}

  Impl& runtime;
  Sink& sink;
  SinkStats& stats;
  SinkQueue queue;
  std::thread thread;

  // Sink thread only: what apply() has been given.
  std::map<PartitionKey, int64_t> applied;
  bool dirty = false;
  int64_t last_flush_ns = 0;

  // Published after each flush, read by the control thread and the partition threads.
  std::mutex flushed_mutex;
  std::map<PartitionKey, int64_t> flushed;

  std::optional<int64_t> flushed_position(const PartitionKey& key) {
    std::lock_guard lock(flushed_mutex);
    auto it = flushed.find(key);
    if (it == flushed.end()) return std::nullopt;
    return it->second;
  }

  Status flush_now() {
    Status status = retry([&] { return sink.flush(); }, runtime.config.runtime.sink_retry_limit,
                          runtime.failed, stats.errors);
    if (!status) return status;
    stats.flushes.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard lock(flushed_mutex);
      for (const auto& [key, position] : applied) flushed[key] = position;
    }
    dirty = false;
    last_flush_ns = runtime.clock->monotonic_ns();
    return Status::ok();
  }

  void apply(const Batch& batch) {
    Status status = retry([&] { return sink.apply(batch); },
                          runtime.config.runtime.sink_retry_limit, runtime.failed, stats.errors);
    if (!status) {
      runtime.fail(located(sink.describe(), status));
      return;
    }
    applied[batch.partition] = batch.next_offset;
    dirty = true;
    stats.batches.fetch_add(1, std::memory_order_relaxed);
    stats.entries.fetch_add(batch.entries.size(), std::memory_order_relaxed);
    // Latency: from the source's timestamp where there is one, else from when the batch closed.
    int64_t now_ms = runtime.clock->now_ms();
    double batch_age = static_cast<double>(runtime.clock->monotonic_ns() - batch.created_ns) / 1e9;
    uint64_t untimed = 0;
    for (const Entry& entry : batch.entries) {
      if (entry.timestamp_ms >= 0) {
        stats.latency.observe(static_cast<double>(now_ms - entry.timestamp_ms) / 1e3);
      } else {
        ++untimed;
      }
    }
    if (untimed != 0) stats.latency.observe(batch_age, untimed);
  }

  void run() {
    const int64_t interval_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    runtime.config.runtime.checkpoint_interval)
                                    .count();
    last_flush_ns = runtime.clock->monotonic_ns();
    while (true) {
      int64_t due_in_ns = last_flush_ns + interval_ns - runtime.clock->monotonic_ns();
      milliseconds wait(std::clamp<int64_t>(due_in_ns / 1000000, 1, 200));
      std::optional<SinkItem> item = queue.pop(wait);
      if (runtime.failed.load()) {
        if (item && item->done) item->done->set_value(Status(ErrorCode::kInternal, "failed"));
        if (item && item->kind == SinkItem::Kind::kStop) return;
        continue;
      }
      if (item) {
        switch (item->kind) {
          case SinkItem::Kind::kBatch:
            apply(*item->batch);
            break;
          case SinkItem::Kind::kFlush:
          case SinkItem::Kind::kStop: {
            Status status = flush_now();
            if (!status) runtime.fail(located(sink.describe(), status));
            item->done->set_value(status);
            if (item->kind == SinkItem::Kind::kStop) return;
            break;
          }
          case SinkItem::Kind::kRelease: {
            Status status = sink.release(item->partitions);
            for (const PartitionKey& key : item->partitions) applied.erase(key);
            {
              std::lock_guard lock(flushed_mutex);
              for (const PartitionKey& key : item->partitions) flushed.erase(key);
            }
            item->done->set_value(status);
            break;
          }
        }
      }
      if (dirty && runtime.clock->monotonic_ns() - last_flush_ns >= interval_ns) {
        Status status = flush_now();
        if (!status) runtime.fail(located(sink.describe(), status));
      }
    }
  }
};

// ---------------------------------------------------------------------------------------------
// Partition threads

namespace {

// What a partition thread knows about source keys beyond the state store: the raw documents and
// canonical keys its own messages produced, which may not be applied yet. Entries below the state
// store's flushed position are dropped once there are many (the store has them by then).
// Lookups in the store are retried as sink writes are (an unreachable store says nothing about
// the record, so the record must not go to the DLQ for it); one that still fails ends the run.
class KeyCache final : public formats::RawDocumentStore {
 public:
  struct RetryPolicy {
    milliseconds limit;
    const std::atomic<bool>* abort;
    std::atomic<uint64_t>* errors;
  };
  KeyCache(StateStore* store, PartitionKey partition, RetryPolicy retry)
      : store_(store), partition_(std::move(partition)), retry_(retry) {}

  struct Known {
    std::optional<std::string> raw;            // the last raw document
    bool raw_erased = false;                   // deleted since
    std::optional<std::string> canonical_key;  // the canonical key it last mapped to
    int64_t offset = 0;
  };

  std::optional<std::string> get(std::string_view key_json) override {
    auto it = known_.find(std::string(key_json));
    if (it != known_.end() && (it->second.raw || it->second.raw_erased)) {
      if (it->second.raw_erased) return std::nullopt;
      return it->second.raw;
    }
    if (store_ == nullptr) return std::nullopt;
    auto stored =
        lookup([&] { return store_->raw_document_before(partition_, key_json, offset_); });
    if (!stored) {
      lookup_error = stored.take_status();
      return std::nullopt;
    }
    return *stored;
  }
  void put(std::string_view key_json, std::string_view document_json) override {
    Known& known = touch(key_json);
    known.raw = std::string(document_json);
    known.raw_erased = false;
    put_key = std::string(key_json);
  }
  void erase(std::string_view key_json) override {
    Known& known = touch(key_json);
    known.raw.reset();
    known.raw_erased = true;
  }

  void remember_canonical(std::string_view source_key_json, std::string_view canonical_json) {
    touch(source_key_json).canonical_key = std::string(canonical_json);
  }
  Result<std::optional<std::string>> canonical(std::string_view source_key_json) {
    auto it = known_.find(std::string(source_key_json));
    if (it != known_.end() && it->second.canonical_key) return it->second.canonical_key;
    if (store_ == nullptr) return std::optional<std::string>();
    return lookup([&] { return store_->canonical_key(partition_.source, source_key_json); });
  }

  void set_offset(int64_t offset) { offset_ = offset; }
  // Drops what the store has made durable, once the cache is big.
  void prune(std::optional<int64_t> store_flushed) {
    if (known_.size() < kPruneAbove || !store_flushed) return;
    while (!order_.empty() && order_.front().first < *store_flushed) {
      auto it = known_.find(order_.front().second);
      if (it != known_.end() && it->second.offset < *store_flushed) known_.erase(it);
      order_.pop_front();
    }
  }

  // The key the decoder stored a raw document under for the current message, if it did.
  std::optional<std::string> put_key;
  // A store lookup that failed after its retries: the run ends with it rather than mis-decoding
  // the message.
  Status lookup_error;

 private:
  static constexpr size_t kPruneAbove = 100000;

  template <typename Call>
  Result<std::optional<std::string>> lookup(Call call) {
    Result<std::optional<std::string>> found = std::optional<std::string>();
    Status status = retry(
        [&] {
          found = call();
          return found.status();
        },
        retry_.limit, *retry_.abort, *retry_.errors);
    if (!status) return located(store_->describe(), status);
    return found;
  }

  Known& touch(std::string_view key_json) {
    Known& known = known_[std::string(key_json)];
    known.offset = offset_;
    order_.emplace_back(offset_, std::string(key_json));
    return known;
  }

  StateStore* store_;
  PartitionKey partition_;
  RetryPolicy retry_;
  int64_t offset_ = 0;
  std::unordered_map<std::string, Known> known_;
  std::deque<std::pair<int64_t, std::string>> order_;
};

formats::ReaderOptions decoder_options(formats::Format format, KeyCache* cache) {
  formats::ReaderOptions options;
  options.format = format;
  options.raw_store = cache;
  return options;
}

}  // namespace

struct Runtime::Impl::SourceRuntime final : PartitionListener {
  SourceRuntime(Impl& runtime, SourceConfig& config) : runtime(runtime), config(config) {}
  Status on_assigned(std::span<const int32_t> partitions) override {
    if (closing) return called_from_close();
    return runtime.assign(*this, partitions);
  }
  Status on_revoked(std::span<const int32_t> partitions) override {
    // The sink threads are gone by then: a revocation would wait for their flush for ever.
    if (closing) return called_from_close();
    return runtime.revoke(*this, partitions);
  }
  Status called_from_close() const {
    return Status(ErrorCode::kInternal, "source " + config.name +
                                            " called the partition listener from close(), which "
                                            "the Source interface forbids");
  }

  Impl& runtime;
  SourceConfig& config;
  std::map<int32_t, std::unique_ptr<PartitionWorker>> workers;
  std::map<int32_t, int64_t> committed;
  bool assigned_once = false;
  bool closing = false;  // Source::close() has been called
};

struct Runtime::Impl::PartitionWorker {
  PartitionWorker(Impl& runtime, SourceRuntime& source, int32_t partition,
                  std::unique_ptr<PartitionReader> reader)
      : runtime(runtime),
        source(source),
        key{source.config.name, partition},
        reader(std::move(reader)),
        stats(runtime.stats.partition(key)),
        cache(runtime.config.state.get(), key,
              {runtime.config.runtime.sink_retry_limit, &runtime.failed, &stats.errors}),
        decoder(decoder_options(source.config.format, &cache)),
        has_deletes(source.config.format != formats::Format::kJson &&
                    source.config.format != formats::Format::kBson) {}

  Impl& runtime;
  SourceRuntime& source;
  const PartitionKey key;
  std::unique_ptr<PartitionReader> reader;
  PartitionStats& stats;
  KeyCache cache;
  formats::MessageDecoder decoder;
  const bool has_deletes;
  Arena arena{256 * 1024};
  std::thread thread;
  std::atomic<bool> stop{false};
  std::atomic<bool> finished{false};
  std::atomic<bool> reached_end{false};

  std::shared_ptr<Batch> batch;
  int64_t batch_opened_ns = 0;
  std::string scratch;

  std::shared_ptr<Batch> new_batch() {
    auto out = std::make_shared<Batch>();
    out->partition = key;
    out->subject = source.config.plan->spec().target_subject;
    out->mapping_id = source.config.plan->mapping_id();
    out->text.reserve(runtime.config.runtime.batch_messages * 512);
    return out;
  }

  void close_batch() {
    if (batch->entries.empty()) return;
    batch->first_offset = batch->entries.front().offset;
    batch->next_offset = batch->entries.back().next_offset;
    batch->created_ns = runtime.clock->monotonic_ns();
    runtime.dispatch(std::move(batch));
    batch = new_batch();
    cache.prune(runtime.state_worker ? runtime.state_worker->flushed_position(key) : std::nullopt);
  }

  void dead_letter(Entry& entry, mapping::Step step, const Status& status, std::string_view path,
                   const formats::Record& record) {
    scratch.clear();
    mapping::append_dead_letter(scratch, {step, &status, path, batch->mapping_id, &record.position,
                                          record.raw, record.raw_is_binary});
    if (!scratch.empty() && scratch.back() == '\n') scratch.pop_back();
    entry.kind = Entry::Kind::kDeadLetter;
    entry.document = batch->append(scratch);
    stats.dead_letters.fetch_add(1, std::memory_order_relaxed);
  }

  // The source key the state store indexes: the envelope's, else the document's _id.
  std::string source_key_json(const formats::Record& record) {
    const json::Value* source_key = &record.source_key;
    if (source_key->is_null() && record.document.is_object()) {
      source_key = record.document.find("_id");
    }
    if (source_key == nullptr || source_key->is_null()) return {};
    return json::to_json(*source_key);
  }

  void process(const Message& message) {
    stats.received.fetch_add(1, std::memory_order_relaxed);
    arena.reset();
    cache.set_offset(message.offset);
    cache.put_key.reset();
    cache.lookup_error = Status();
    Entry& entry = batch->entries.emplace_back();
    entry.offset = message.offset;
    entry.next_offset = message.next_offset;
    entry.timestamp_ms = message.timestamp_ms;

    formats::Record record;
    record.position.source = source.config.uri;
    record.position.line = message.line;
    record.position.offset = message.offset;
    record.position.topic = message.topic;
    record.position.partition = message.topic.empty() ? -1 : key.partition;
    if (message.timestamp_ms >= 0) record.envelope_time_ms = message.timestamp_ms;
    Status error;
    auto outcome = decoder.decode(message.key, message.value, arena, record, error);
    if (outcome == formats::MessageDecoder::Outcome::kSkipped) {
      stats.dropped.fetch_add(1, std::memory_order_relaxed);
      return;  // kSkipped
    }
    if (!cache.lookup_error.is_ok()) {
      runtime.fail(cache.lookup_error);
      return;
    }
    if (outcome == formats::MessageDecoder::Outcome::kError) {
      dead_letter(entry, mapping::Step::kDecode, error, {}, record);
      return;
    }
    // The decoder kept this message's document for later updates (Debezium): so must the state
    // store, whatever becomes of the record, or an update after a restart misses its base.
    if (cache.put_key) {
      entry.source_key = batch->append(*cache.put_key);
      if (auto raw = cache.get(*cache.put_key)) entry.raw_document = batch->append(*raw);
    }
    const mapping::Plan& plan = *source.config.plan;
    mapping::MapInfo info;
    mapping::MapError map_error;

    if (record.op == formats::Op::kDelete) {
      // The canonical key: from the `before` document when there is one (mapped for its key
      // only), else through the source key.
      std::string canonical;
      json::Value before;
      if (!record.document.is_null() &&
          plan.map_to_value(record.document, arena, before, info, map_error) &&
          !info.key.is_null()) {
        canonical = json::to_json(info.key);
      }
      std::string source_key = source_key_json(record);
      if (canonical.empty() && !source_key.empty()) {
        auto found = cache.canonical(source_key);
        if (!found) {
          runtime.fail(found.take_status());
          return;
        }
        if (*found) canonical = **found;
      }
      if (canonical.empty()) {
        Status unknown(ErrorCode::kMissingKey,
                       "delete of source key " + (source_key.empty() ? "null" : source_key) +
                           " that maps to no canonical entity this pipeline has seen");
        dead_letter(entry, mapping::Step::kMap, unknown, {}, record);
        return;
      }
      entry.kind = Entry::Kind::kDelete;
      entry.key = batch->append(canonical);
      if (!source_key.empty() && entry.source_key.empty()) {
        entry.source_key = batch->append(source_key);
      }
      stats.deletes.fetch_add(1, std::memory_order_relaxed);
      return;
    }

    uint32_t begin = static_cast<uint32_t>(batch->text.size());
    if (source.config.validator) {
      json::Value canonical;
      if (!plan.map_to_value(record.document, arena, canonical, info, map_error)) {
        dead_letter(entry, mapping::Step::kMap, map_error.status, map_error.dst, record);
        return;
      }
      std::vector<schema::ValidationError> invalid = source.config.validator->validate(canonical);
      if (!invalid.empty()) {
        Status status = schema::validation_status(invalid);
        std::string path = schema::pointer_to_jsonpath(invalid.front().instance_path);
        dead_letter(entry, mapping::Step::kValidate, status, path, record);
        return;
      }
      json::append_value(batch->text, canonical);
    } else if (!plan.map(record.document, arena, batch->text, info, map_error)) {
      batch->text.resize(begin);
      dead_letter(entry, mapping::Step::kMap, map_error.status, map_error.dst, record);
      return;
    }
    entry.kind = Entry::Kind::kUpsert;
    entry.document = {begin, static_cast<uint32_t>(batch->text.size() - begin)};
    if (!info.key.is_null()) {
      begin = static_cast<uint32_t>(batch->text.size());
      json::append_value(batch->text, info.key);
      entry.key = {begin, static_cast<uint32_t>(batch->text.size() - begin)};
    }
    if (info.event_time_ms) entry.event_time_ms = *info.event_time_ms;
    std::string source_key = source_key_json(record);
    if (!source_key.empty()) {
      if (entry.source_key.empty()) entry.source_key = batch->append(source_key);
      // Deletes that name only their source key come from change events; plain documents
      // (json, bson) are never deletes, so their keys need no cache (the store indexes them).
      if (!entry.key.empty() && has_deletes) {
        cache.remember_canonical(source_key, batch->view(entry.key));
      }
    }
    stats.upserts.fetch_add(1, std::memory_order_relaxed);
  }

  void run() {
    const RuntimeOptions& options = runtime.config.runtime;
    batch = new_batch();
    MessageBatch input;
    milliseconds backoff(50);
    batch_opened_ns = runtime.clock->monotonic_ns();
    const int64_t linger_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(options.batch_linger).count();
    while (!stop.load() && !runtime.failed.load()) {
      size_t room = options.batch_messages - batch->entries.size();
      milliseconds timeout = std::max(options.batch_linger, milliseconds(1));
      Status status = reader->read(input, room, std::min(timeout, milliseconds(100)));
      if (!status) {
        stats.errors.fetch_add(1, std::memory_order_relaxed);
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, milliseconds(5000));
        continue;
      }
      backoff = milliseconds(50);
      if (batch->entries.empty() && !input.messages.empty()) {
        batch_opened_ns = runtime.clock->monotonic_ns();
      }
      for (const Message& message : input.messages) {
        process(message);
        if (runtime.failed.load()) break;  // nothing after a failure is dispatched
      }
      if (runtime.failed.load()) break;
      if (auto lag = reader->lag()) stats.lag.store(*lag, std::memory_order_relaxed);
      bool full = batch->entries.size() >= options.batch_messages;
      bool lingered = runtime.clock->monotonic_ns() - batch_opened_ns >= linger_ns;
      if (full || lingered || input.end) close_batch();
      if (input.end) {
        reached_end.store(true);
        break;
      }
    }
    if (!runtime.failed.load()) close_batch();
    finished.store(true);
  }
};

// ---------------------------------------------------------------------------------------------

void Runtime::Impl::dispatch(std::shared_ptr<const Batch> batch) {
  for (auto& worker : sink_workers) {
    SinkItem item;
    item.kind = SinkItem::Kind::kBatch;
    item.batch = batch;
    if (!worker->queue.push(std::move(item), failed)) return;
  }
}

Status Runtime::Impl::command_all(SinkItem::Kind kind,
                                  const std::vector<PartitionKey>& partitions) {
  std::vector<std::future<Status>> waits;
  for (auto& worker : sink_workers) {
    SinkItem item;
    item.kind = kind;
    item.partitions = partitions;
    item.done = std::make_shared<std::promise<Status>>();
    waits.push_back(item.done->get_future());
    worker->queue.push(std::move(item), failed);
  }
  Status first;
  for (auto& wait : waits) {
    Status status = wait.get();
    if (!status && first.is_ok()) first = status;
  }
  return first;
}

std::optional<int64_t> Runtime::Impl::flushed_everywhere(const PartitionKey& key) {
  std::optional<int64_t> lowest;
  for (auto& worker : sink_workers) {
    std::optional<int64_t> position = worker->flushed_position(key);
    if (!position) return std::nullopt;
    lowest = lowest ? std::min(*lowest, *position) : *position;
  }
  return lowest;
}

void Runtime::Impl::commit_flushed(SourceRuntime& source, const std::vector<int32_t>& only) {
  std::vector<int32_t> partitions = only;
  if (partitions.empty()) {
    for (const auto& [partition, worker] : source.workers) partitions.push_back(partition);
  }
  for (int32_t partition : partitions) {
    PartitionKey key{source.config.name, partition};
    std::optional<int64_t> position = flushed_everywhere(key);
    if (!position) continue;
    auto it = source.committed.find(partition);
    if (it != source.committed.end() && it->second >= *position) continue;
    Status status = source.config.source->commit(partition, *position);
    if (!status) {
      // The sinks hold the position; a failed commit only delays the source's hint.
      log("canonry run: commit of " + key.to_string() + " failed: " + status.message());
      continue;
    }
    source.committed[partition] = *position;
    stats.partition(key).committed.store(*position, std::memory_order_relaxed);
    for (auto& worker : sink_workers) worker->sink.on_committed(key, *position);
  }
}

Status Runtime::Impl::assign(SourceRuntime& source, std::span<const int32_t> partitions) {
  source.assigned_once = true;
  for (int32_t partition : partitions) {
    PartitionKey key{source.config.name, partition};
    // The lowest position any sink holds; nothing held anywhere means from the beginning. Every
    // sink is asked, even once one holds nothing: a sink learns here what it holds, and skips it.
    std::optional<int64_t> start;
    bool first = true;
    bool all_hold = true;
    for (auto& worker : sink_workers) {
      auto held = worker->sink.applied_position(key);
      if (!held) {
        return Status(held.status().code(),
                      worker->sink.describe() + ": " + held.status().message());
      }
      if (!*held) {
        all_hold = false;
        continue;
      }
      start = first ? **held : std::min(*start, **held);
      first = false;
    }
    if (!all_hold) start.reset();
    auto reader = source.config.source->open_partition(partition, start);
    if (!reader) {
      return Status(reader.status().code(), source.config.name + ": partition " +
                                                std::to_string(partition) + ": " +
                                                reader.status().message());
    }
    if (start) source.committed[partition] = *start;
    auto worker = std::make_unique<PartitionWorker>(*this, source, partition, std::move(*reader));
    PartitionWorker* raw = worker.get();
    source.workers[partition] = std::move(worker);
    raw->thread = std::thread([raw] { raw->run(); });
  }
  return Status::ok();
}

Status Runtime::Impl::stop_partitions(SourceRuntime& source,
                                      const std::vector<int32_t>& partitions) {
  for (int32_t partition : partitions) {
    auto it = source.workers.find(partition);
    if (it != source.workers.end()) it->second->stop.store(true);
  }
  for (int32_t partition : partitions) {
    auto it = source.workers.find(partition);
    if (it != source.workers.end() && it->second->thread.joinable()) it->second->thread.join();
  }
  return Status::ok();
}

Status Runtime::Impl::revoke(SourceRuntime& source, std::span<const int32_t> partitions) {
  std::vector<int32_t> list(partitions.begin(), partitions.end());
  stop_partitions(source, list);
  Status flushed = command_all(SinkItem::Kind::kFlush, {});
  if (flushed) commit_flushed(source, list);
  std::vector<PartitionKey> keys;
  for (int32_t partition : list) keys.push_back({source.config.name, partition});
  Status released = command_all(SinkItem::Kind::kRelease, keys);
  for (int32_t partition : list) {
    source.workers.erase(partition);
    source.committed.erase(partition);
  }
  if (!flushed) return flushed;
  return released;
}

Status Runtime::Impl::start_sinks() {
  SinkContext context;
  context.pipeline = config.name;
  context.clock = clock;
  for (SourceConfig& source : config.sources) context.sources.push_back(source.source.get());
  std::vector<Sink*> all;
  if (config.state) all.push_back(config.state.get());
  for (auto& sink : config.sinks) all.push_back(sink.get());
  for (Sink* sink : all) {
    Status opened = sink->open(context);
    if (!opened) {
      // The sinks opened before this one hold connections and files: give them back.
      for (auto& worker : sink_workers) worker->sink.close();
      sink_workers.clear();
      return Status(opened.code(), sink->describe() + ": " + opened.message());
    }
    sink_workers.push_back(std::make_unique<SinkWorker>(*this, *sink));
  }
  if (config.state) state_worker = sink_workers.front().get();
  for (auto& worker : sink_workers) {
    SinkWorker* raw = worker.get();
    raw->thread = std::thread([raw] { raw->run(); });
  }
  return Status::ok();
}

Status Runtime::Impl::shutdown() {
  for (auto& source : sources) {
    std::vector<int32_t> partitions;
    for (const auto& [partition, worker] : source->workers) partitions.push_back(partition);
    stop_partitions(*source, partitions);
  }
  Status flushed = Status::ok();
  if (!failed.load()) {
    flushed = command_all(SinkItem::Kind::kFlush, {});
    if (flushed) {
      for (auto& source : sources) commit_flushed(*source);
    }
  }
  // Stop the sink threads (a stop flushes once more, harmlessly).
  command_all(SinkItem::Kind::kStop, {});
  for (auto& worker : sink_workers) {
    if (worker->thread.joinable()) worker->thread.join();
  }
  for (auto& source : sources) {
    source->workers.clear();
    source->closing = true;
    Status closed = source->config.source->close();
    if (!closed) log("canonry run: closing " + source->config.name + ": " + closed.message());
  }
  for (auto& worker : sink_workers) {
    Status closed = worker->sink.close();
    if (!closed) log("canonry run: closing " + worker->sink.describe() + ": " + closed.message());
  }
  if (failed.load()) {
    std::lock_guard lock(failure_mutex);
    return failure;
  }
  return flushed;
}

std::string Runtime::Impl::progress_line(double seconds) {
  uint64_t received = 0, sent = 0, dead = 0, dropped = 0, errors = 0;
  int64_t lag = 0;
  bool lag_known = false;
  for (const auto& partition : stats.partitions()) {
    received += partition->received.load();
    sent += partition->upserts.load() + partition->deletes.load();
    dead += partition->dead_letters.load();
    dropped += partition->dropped.load();
    errors += partition->errors.load();
    if (int64_t l = partition->lag.load(); l >= 0) {
      lag += l;
      lag_known = true;
    }
  }
  for (const auto& sink : stats.sinks()) errors += sink->errors.load();
  char line[512];
  std::snprintf(line, sizeof line,
                "canonry run: %s: %.1fs, %llu received (%.0f/s), %llu sent, %llu to the DLQ, "
                "%llu skipped, %llu errors, lag %s",
                config.name.c_str(), seconds, static_cast<unsigned long long>(received),
                seconds > 0 ? static_cast<double>(received) / seconds : 0.0,
                static_cast<unsigned long long>(sent), static_cast<unsigned long long>(dead),
                static_cast<unsigned long long>(dropped), static_cast<unsigned long long>(errors),
                lag_known ? std::to_string(lag).c_str() : "unknown");
  return line;
}

Status Runtime::Impl::run(const RunOptions& run_options) {
  options = run_options;
  clock = options.clock != nullptr ? options.clock : &system_clock();
  if (options.until_end) {
    for (SourceConfig& source : config.sources) {
      if (!source.source->bounded()) {
        return Status(ErrorCode::kInvalidArgument,
                      "--until-end: source " + source.name + " (" + source.uri + ") never ends");
      }
    }
  }
  // start_sinks starts the sink threads only once every sink is open: on failure none runs.
  if (Status started = start_sinks(); !started) return started;
  for (SourceConfig& source : config.sources) {
    sources.push_back(std::make_unique<SourceRuntime>(*this, source));
  }
  for (auto& source : sources) {
    Status started = source->config.source->start(*source);
    if (!started) {
      fail(Status(started.code(), source->config.name + ": " + started.message()));
      break;
    }
  }

  const int64_t started_ns = clock->monotonic_ns();
  int64_t last_progress_ns = started_ns;
  int64_t last_commit_ns = started_ns;
  const int64_t progress_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(config.runtime.progress_interval)
          .count();
  const int64_t commit_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(config.runtime.checkpoint_interval)
          .count();
  const milliseconds poll_timeout(
      std::max<int64_t>(10, 100 / static_cast<int64_t>(sources.size())));
  while (!failed.load()) {
    if (options.stop != nullptr && options.stop->load()) break;
    for (auto& source : sources) {
      Status polled = source->config.source->poll(poll_timeout);
      if (!polled) log("canonry run: " + source->config.name + ": " + polled.message());
    }
    if (options.until_end) {
      bool all_ended = true;
      for (auto& source : sources) {
        all_ended = all_ended && source->assigned_once;
        for (const auto& [partition, worker] : source->workers) {
          all_ended = all_ended && worker->finished.load() && worker->reached_end.load();
        }
      }
      if (all_ended) break;
    }
    int64_t now = clock->monotonic_ns();
    if (now - last_commit_ns >= commit_ns) {
      for (auto& source : sources) commit_flushed(*source);
      last_commit_ns = now;
    }
    if (progress_ns > 0 && now - last_progress_ns >= progress_ns) {
      log(progress_line(static_cast<double>(now - started_ns) / 1e9));
      last_progress_ns = now;
    }
  }
  Status result = shutdown();
  if (progress_ns > 0 || !result) {
    log(progress_line(static_cast<double>(clock->monotonic_ns() - started_ns) / 1e9));
  }
  return result;
}

// ---------------------------------------------------------------------------------------------

Runtime::Runtime(PipelineConfig& config) : impl_(std::make_unique<Impl>(config)) {}
Runtime::~Runtime() = default;

Status Runtime::run(const RunOptions& options) {
  return impl_->run(options);
}

const PipelineStats& Runtime::stats() const {
  return impl_->stats;
}

}  // namespace canonry::pipeline
