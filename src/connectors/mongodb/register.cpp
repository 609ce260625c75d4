// Registers the mongodb:// scheme: a source (snapshot or change stream) and a state store.
#include "connectors/mongodb/source.h"
#include "connectors/mongodb/state_store.h"

namespace canonry::mongodb {
namespace {

pipeline::ConnectorFactories make_mongodb_connector() {
  pipeline::ConnectorFactories factories;
  factories.scheme = "mongodb";
  factories.source = make_source;
  factories.state_store = make_state_store;
  return factories;
}
CANONRY_REGISTER_CONNECTOR(make_mongodb_connector);

// Connection strings with DNS seed lists (mongodb+srv://host/db.collection) are the same connector.
pipeline::ConnectorFactories make_mongodb_srv_connector() {
  pipeline::ConnectorFactories factories = make_mongodb_connector();
  factories.scheme = "mongodb+srv";
  return factories;
}
CANONRY_REGISTER_CONNECTOR(make_mongodb_srv_connector);

}  // namespace
}  // namespace canonry::mongodb
