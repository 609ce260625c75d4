#include "connectors/kafka/kafka_client.h"

namespace canonry::kafka {

Status kafka_status(std::string_view what, rd_kafka_resp_err_t err) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::ok();
  return Status(ErrorCode::kKafka, std::string(what) + ": " + rd_kafka_err2str(err) + " (" +
                                       rd_kafka_err2name(err) + ")");
}

Status kafka_status(std::string_view what, rd_kafka_error_t* error) {
  if (error == nullptr) return Status::ok();
  Status status(ErrorCode::kKafka, std::string(what) + ": " + rd_kafka_error_string(error) + " (" +
                                       rd_kafka_error_name(error) + ")");
  rd_kafka_error_destroy(error);
  return status;
}

namespace {

// librdkafka logs to stderr by default; a library of canonry never prints. What matters reaches
// the runtime as a Status (fatal errors, failed transactional calls) or as a counted error; the
// rest (reconnects, retries) librdkafka handles itself. `debug=...` in a URI turns its logging back
// on for diagnosis.
void discard_log(const rd_kafka_t*, int, const char*, const char*) {}

}  // namespace

Result<Conf> make_conf(const std::map<std::string, std::string>& properties) {
  Conf conf(rd_kafka_conf_new());
  if (!properties.contains("debug")) rd_kafka_conf_set_log_cb(conf.get(), discard_log);
  char message[512];
  for (const auto& [key, value] : properties) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), message, sizeof message) !=
        RD_KAFKA_CONF_OK) {
      return Status(ErrorCode::kInvalidArgument, "property " + key + ": " + message);
    }
  }
  return conf;
}

}  // namespace canonry::kafka
