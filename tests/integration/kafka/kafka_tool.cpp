// A small Kafka client for the integration tests and bench/kafka (librdkafka, no canonry code, so
// that it checks canonry from the outside):
//
//   kafka_tool produce BOOTSTRAP TOPIC [--rate N]
//       writes stdin lines "KEY<TAB>VALUE" (no tab or an empty KEY: no key; a value \N is a
//       tombstone) as messages, at most
//       N per second when --rate is given; the message timestamp is the moment it is sent.
//   kafka_tool create BOOTSTRAP TOPIC PARTITIONS
//       creates the topic (replication factor 1), succeeding when it exists already.
//   kafka_tool consume BOOTSTRAP TOPIC [--idle-ms MS] [--count N] [--latency]
//       reads every partition from the beginning as a read_committed consumer (no group) until
//       it reached where each partition ended when it started (without --count), N messages
//       arrived (with --count: it may start before they are written, as bench/kafka's latency
//       runs do), or none came for MS milliseconds (default 5000; 30 s before the first), and
//       prints one line per
//       message: "PARTITION<TAB>OFFSET<TAB>KEY<TAB>VALUE<TAB>HEADERS" (null key or value: \N,
//       headers as name=value joined by ','). With --latency it prints instead, once, a JSON
//       object: count, seconds from first to last message, and the p50/p99/max of
//       (receive time - message timestamp) in milliseconds, over the messages stamped after it
//       started (earlier ones, a warm-up, are read but neither counted nor measured).
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace {

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "kafka_tool: %s\n", message.c_str());
  std::exit(1);
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

rd_kafka_t* make_client(rd_kafka_type_t type,
                        const std::vector<std::pair<std::string, std::string>>& properties) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  for (const auto& [key, value] : properties) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      die(key + ": " + error);
    }
  }
  rd_kafka_t* client = rd_kafka_new(type, conf, error, sizeof error);
  if (client == nullptr) die(error);
  return client;
}

int produce(const std::string& bootstrap, const std::string& topic, double rate) {
  rd_kafka_t* producer =
      make_client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap},
                                      {"enable.idempotence", "true"},
                                      {"partitioner", "murmur2_random"},
                                      {"linger.ms", rate > 0 ? "0" : "10"},
                                      {"queue.buffering.max.messages", "1000000"}});
  std::string line;
  int64_t sent = 0;
  auto start = std::chrono::steady_clock::now();
  while (std::getline(std::cin, line)) {
    if (rate > 0) {
      auto due = start + std::chrono::duration<double>(static_cast<double>(sent) / rate);
      std::this_thread::sleep_until(due);
    }
    size_t tab = line.find('\t');
    const char* key = tab == std::string::npos || tab == 0 ? nullptr : line.data();
    size_t key_size = tab == std::string::npos ? 0 : tab;
    std::string_view value =
        tab == std::string::npos ? std::string_view(line) : std::string_view(line).substr(tab + 1);
    const bool tombstone = value == "\\N";
    for (;;) {
      rd_kafka_resp_err_t err =
          rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic.c_str()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_size),
                            RD_KAFKA_V_VALUE(tombstone ? nullptr : const_cast<char*>(value.data()),
                                             tombstone ? 0 : value.size()),
                            RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
        die(std::string("produce: ") + rd_kafka_err2str(err));
      rd_kafka_poll(producer, 10);
    }
    ++sent;
    rd_kafka_poll(producer, 0);
  }
  rd_kafka_resp_err_t err = rd_kafka_flush(producer, 60000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) die(std::string("flush: ") + rd_kafka_err2str(err));
  rd_kafka_destroy(producer);
  std::fprintf(stderr, "kafka_tool: produced %lld messages to %s\n", static_cast<long long>(sent),
               topic.c_str());
  return 0;
}

// One CreateTopics request and its result event, which the caller destroys.
rd_kafka_event_t* request_create(rd_kafka_t* admin, rd_kafka_NewTopic_t* new_topic,
                                 const std::string& topic) {
  rd_kafka_queue_t* queue = rd_kafka_queue_new(admin);
  rd_kafka_CreateTopics(admin, &new_topic, 1, nullptr, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 30000);
  rd_kafka_queue_destroy(queue);
  if (event == nullptr) die("create " + topic + ": no answer within 30 s");
  return event;
}

int create(const std::string& bootstrap, const std::string& topic, int partitions) {
  rd_kafka_t* admin = make_client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap}});
  char error[512];
  rd_kafka_NewTopic_t* new_topic =
      rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, error, sizeof error);
  if (new_topic == nullptr) die(error);
  // A broker that has just started may still drop a connection (librdkafka: "Broker transport
  // failure"); the request is asked again for a while, as an existing topic counts as created.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  rd_kafka_event_t* event = request_create(admin, new_topic, topic);
  while (rd_kafka_event_error(event) == RD_KAFKA_RESP_ERR__TRANSPORT &&
         std::chrono::steady_clock::now() < deadline) {
    rd_kafka_event_destroy(event);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    event = request_create(admin, new_topic, topic);
  }
  if (rd_kafka_event_error(event))
    die("create " + topic + ": " + rd_kafka_event_error_string(event));
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
  for (size_t i = 0; i < count; ++i) {
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      die("create " + topic + ": " + rd_kafka_err2str(err));
    }
  }
  rd_kafka_event_destroy(event);
  rd_kafka_NewTopic_destroy(new_topic);
  rd_kafka_destroy(admin);
  return 0;
}

void print_field(std::string& out, const void* bytes, size_t size) {
  if (bytes == nullptr) {
    out += "\\N";
    return;
  }
  out.append(static_cast<const char*>(bytes), size);
}

int consume(const std::string& bootstrap, const std::string& topic, int idle_ms, int64_t count,
            bool latency) {
  rd_kafka_t* consumer = make_client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap},
                                                         {"group.id", "kafka_tool"},
                                                         {"enable.auto.commit", "false"},
                                                         {"isolation.level", "read_committed"},
                                                         {"fetch.wait.max.ms", "10"}});
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_topic_t* handle = rd_kafka_topic_new(consumer, topic.c_str(), nullptr);
  rd_kafka_resp_err_t err = rd_kafka_metadata(consumer, 0, handle, &metadata, 10000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) die(std::string("metadata: ") + rd_kafka_err2str(err));
  if (metadata->topic_cnt != 1 || metadata->topics[0].err) die("no topic " + topic);
  rd_kafka_topic_partition_list_t* partitions = rd_kafka_topic_partition_list_new(8);
  for (int i = 0; i < metadata->topics[0].partition_cnt; ++i) {
    rd_kafka_topic_partition_list_add(partitions, topic.c_str(),
                                      metadata->topics[0].partitions[i].id)
        ->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_metadata_destroy(metadata);
  rd_kafka_topic_destroy(handle);
  // Where each partition ends now (for a read_committed consumer: its last stable offset), so that
  // reading stops as soon as everything there is was read, however slowly the first fetch comes.
  std::vector<int64_t> ends;
  for (int i = 0; i < partitions->cnt; ++i) {
    int64_t low = 0, high = 0;
    if (rd_kafka_query_watermark_offsets(consumer, topic.c_str(), partitions->elems[i].partition,
                                         &low, &high, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      high = -1;  // unknown: only the idle time ends the read
    }
    ends.push_back(high);
  }
  rd_kafka_assign(consumer, partitions);
  auto reached_ends = [&] {
    rd_kafka_topic_partition_list_t* positions = rd_kafka_topic_partition_list_copy(partitions);
    rd_kafka_position(consumer, positions);
    bool all = true;
    for (int i = 0; i < positions->cnt; ++i) {
      int64_t low = 0, high = 0;
      rd_kafka_get_watermark_offsets(consumer, topic.c_str(), positions->elems[i].partition, &low,
                                     &high);
      const bool empty = ends[i] >= 0 && ends[i] <= low;
      all = all && ends[i] >= 0 && (empty || positions->elems[i].offset >= ends[i]);
    }
    rd_kafka_topic_partition_list_destroy(positions);
    return all;
  };
  const int64_t started = now_ms();

  std::vector<int64_t> latencies;
  int64_t received = 0, first_ms = 0, last_ms = 0;
  int64_t last_arrival = now_ms();
  std::string out;
  while (count < 0 || received < count) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, 100);
    int64_t now = now_ms();
    if (message == nullptr) {
      if (count < 0 && reached_ends()) break;
      // Idle: nothing for idle_ms after the first message, or for 30 s before it (a slow start).
      if (now - last_arrival >= idle_ms && (received > 0 || now - started >= 30000)) break;
      continue;
    }
    if (message->err) {
      if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        std::fprintf(stderr, "kafka_tool: %s\n", rd_kafka_message_errstr(message));
      }
      rd_kafka_message_destroy(message);
      continue;
    }
    last_arrival = now;
    if (latency && rd_kafka_message_timestamp(message, nullptr) < started) {
      rd_kafka_message_destroy(message);
      continue;
    }
    if (received == 0) first_ms = now;
    last_ms = now;
    ++received;
    if (latency) {
      latencies.push_back(now - rd_kafka_message_timestamp(message, nullptr));
    } else {
      out.clear();
      out += std::to_string(message->partition) + "\t" + std::to_string(message->offset) + "\t";
      print_field(out, message->key, message->key_len);
      out += '\t';
      print_field(out, message->payload, message->len);
      out += '\t';
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* value;
        size_t size;
        for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == 0; ++i) {
          if (i) out += ',';
          out += name;
          out += '=';
          print_field(out, value, size);
        }
      }
      out += '\n';
      std::fwrite(out.data(), 1, out.size(), stdout);
    }
    rd_kafka_message_destroy(message);
  }
  rd_kafka_topic_partition_list_destroy(partitions);
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  if (latency) {
    std::sort(latencies.begin(), latencies.end());
    auto at = [&](double q) {
      return latencies.empty() ? 0
                               : latencies[std::min(latencies.size() - 1,
                                                    static_cast<size_t>(q * latencies.size()))];
    };
    std::printf(
        "{\"count\": %lld, \"seconds\": %.3f, \"p50_ms\": %lld, \"p99_ms\": %lld, \"max_ms\": "
        "%lld}\n",
        static_cast<long long>(received), (last_ms - first_ms) / 1000.0,
        static_cast<long long>(at(0.5)), static_cast<long long>(at(0.99)),
        static_cast<long long>(latencies.empty() ? 0 : latencies.back()));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) die("usage: kafka_tool produce|consume BOOTSTRAP TOPIC [options]");
  std::string command = argv[1], bootstrap = argv[2], topic = argv[3];
  double rate = 0;
  int idle_ms = 5000;
  int64_t count = -1;
  bool latency = false;
  for (int i = command == "create" ? argc : 4; i < argc; ++i) {
    std::string option = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(option + " needs a value");
      return argv[++i];
    };
    if (option == "--rate")
      rate = std::stod(value());
    else if (option == "--idle-ms")
      idle_ms = std::stoi(value());
    else if (option == "--count")
      count = std::stoll(value());
    else if (option == "--latency")
      latency = true;
    else
      die("unknown option " + option);
  }
  if (command == "produce") return produce(bootstrap, topic, rate);
  if (command == "create") return create(bootstrap, topic, argc > 4 ? std::stoi(argv[4]) : 1);
  if (command == "consume") return consume(bootstrap, topic, idle_ms, count, latency);
  die("unknown command " + command);
}
