// Compatibility of two JSON Schemas by Confluent Schema Registry's documented rules: the schemas
// are compared structurally and every change found is a typed Difference at a JSON path
// ("#/properties/age"); each type of change is compatible or not for a reader of the updated
// schema reading what a writer of the original wrote, under the strict policy (the default) or
// the lenient one. docs/registry.md lists the types and the rules.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "json/value.h"

namespace canonry::registry {

// X(NAME, compatible under the strict policy, compatible under the lenient policy)
#define CANONRY_JSON_DIFFERENCES(X)                                            \
  X(ID_CHANGED, true, true)                                                    \
  X(DESCRIPTION_CHANGED, true, true)                                           \
  X(TITLE_CHANGED, true, true)                                                 \
  X(DEFAULT_CHANGED, true, true)                                               \
  X(SCHEMA_ADDED, false, false)                                                \
  X(SCHEMA_REMOVED, true, true)                                                \
  X(TYPE_EXTENDED, true, true)                                                 \
  X(TYPE_NARROWED, false, false)                                               \
  X(TYPE_CHANGED, false, false)                                                \
  X(MAX_LENGTH_ADDED, false, false)                                            \
  X(MAX_LENGTH_REMOVED, true, true)                                            \
  X(MAX_LENGTH_INCREASED, true, true)                                          \
  X(MAX_LENGTH_DECREASED, false, false)                                        \
  X(MIN_LENGTH_ADDED, false, false)                                            \
  X(MIN_LENGTH_REMOVED, true, true)                                            \
  X(MIN_LENGTH_INCREASED, false, false)                                        \
  X(MIN_LENGTH_DECREASED, true, true)                                          \
  X(PATTERN_ADDED, false, false)                                               \
  X(PATTERN_REMOVED, true, true)                                               \
  X(PATTERN_CHANGED, false, false)                                             \
  X(MAXIMUM_ADDED, false, false)                                               \
  X(MAXIMUM_REMOVED, true, true)                                               \
  X(MAXIMUM_INCREASED, true, true)                                             \
  X(MAXIMUM_DECREASED, false, false)                                           \
  X(MINIMUM_ADDED, false, false)                                               \
  X(MINIMUM_REMOVED, true, true)                                               \
  X(MINIMUM_INCREASED, false, false)                                           \
  X(MINIMUM_DECREASED, true, true)                                             \
  X(EXCLUSIVE_MAXIMUM_ADDED, false, false)                                     \
  X(EXCLUSIVE_MAXIMUM_REMOVED, true, true)                                     \
  X(EXCLUSIVE_MAXIMUM_INCREASED, true, true)                                   \
  X(EXCLUSIVE_MAXIMUM_DECREASED, false, false)                                 \
  X(EXCLUSIVE_MINIMUM_ADDED, false, false)                                     \
  X(EXCLUSIVE_MINIMUM_REMOVED, true, true)                                     \
  X(EXCLUSIVE_MINIMUM_INCREASED, false, false)                                 \
  X(EXCLUSIVE_MINIMUM_DECREASED, true, true)                                   \
  X(MULTIPLE_OF_ADDED, false, false)                                           \
  X(MULTIPLE_OF_REMOVED, true, true)                                           \
  X(MULTIPLE_OF_EXPANDED, false, false)                                        \
  X(MULTIPLE_OF_REDUCED, true, true)                                           \
  X(MULTIPLE_OF_CHANGED, false, false)                                         \
  X(REQUIRED_ATTRIBUTE_ADDED, false, false)                                    \
  X(REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED, true, true)                         \
  X(REQUIRED_ATTRIBUTE_REMOVED, true, true)                                    \
  X(DEPENDENCY_ARRAY_ADDED, false, false)                                      \
  X(DEPENDENCY_ARRAY_REMOVED, true, true)                                      \
  X(DEPENDENCY_ARRAY_EXTENDED, false, false)                                   \
  X(DEPENDENCY_ARRAY_NARROWED, true, true)                                     \
  X(DEPENDENCY_ARRAY_CHANGED, false, false)                                    \
  X(DEPENDENCY_SCHEMA_ADDED, false, false)                                     \
  X(DEPENDENCY_SCHEMA_REMOVED, true, true)                                     \
  X(MAX_PROPERTIES_ADDED, false, false)                                        \
  X(MAX_PROPERTIES_REMOVED, true, true)                                        \
  X(MAX_PROPERTIES_INCREASED, true, true)                                      \
  X(MAX_PROPERTIES_DECREASED, false, false)                                    \
  X(MIN_PROPERTIES_ADDED, false, false)                                        \
  X(MIN_PROPERTIES_REMOVED, true, true)                                        \
  X(MIN_PROPERTIES_INCREASED, false, false)                                    \
  X(MIN_PROPERTIES_DECREASED, true, true)                                      \
  X(ADDITIONAL_PROPERTIES_ADDED, true, true)                                   \
  X(ADDITIONAL_PROPERTIES_REMOVED, false, true)                                \
  X(ADDITIONAL_PROPERTIES_EXTENDED, true, true)                                \
  X(ADDITIONAL_PROPERTIES_NARROWED, false, true)                               \
  X(PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL, false, true)                         \
  X(PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL, true, true)        \
  X(REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL, false, false)             \
  X(REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL, true, true)  \
  X(OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL, true, true)               \
  X(PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL, true, true)                      \
  X(PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL, true, true)         \
  X(PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL, false, false)                  \
  X(PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, true, true)     \
  X(PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, false, true)   \
  X(PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, true, true)   \
  X(PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, false, true) \
  X(MAX_ITEMS_ADDED, false, false)                                             \
  X(MAX_ITEMS_REMOVED, true, true)                                             \
  X(MAX_ITEMS_INCREASED, true, true)                                           \
  X(MAX_ITEMS_DECREASED, false, false)                                         \
  X(MIN_ITEMS_ADDED, false, false)                                             \
  X(MIN_ITEMS_REMOVED, true, true)                                             \
  X(MIN_ITEMS_INCREASED, false, false)                                         \
  X(MIN_ITEMS_DECREASED, true, true)                                           \
  X(UNIQUE_ITEMS_ADDED, false, false)                                          \
  X(UNIQUE_ITEMS_REMOVED, true, true)                                          \
  X(ADDITIONAL_ITEMS_ADDED, true, true)                                        \
  X(ADDITIONAL_ITEMS_REMOVED, false, false)                                    \
  X(ADDITIONAL_ITEMS_EXTENDED, true, true)                                     \
  X(ADDITIONAL_ITEMS_NARROWED, false, false)                                   \
  X(ITEM_ADDED_TO_OPEN_CONTENT_MODEL, false, false)                            \
  X(ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL, true, true)            \
  X(ITEM_ADDED_TO_CLOSED_CONTENT_MODEL, true, true)                            \
  X(ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL, true, true)                          \
  X(ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL, true, true)             \
  X(ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL, false, false)                      \
  X(ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, true, true)         \
  X(ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, false, false)      \
  X(ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, true, true)       \
  X(ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, false, false)    \
  X(ENUM_ARRAY_EXTENDED, true, true)                                           \
  X(ENUM_ARRAY_NARROWED, false, false)                                         \
  X(ENUM_ARRAY_CHANGED, false, false)                                          \
  X(COMBINED_TYPE_EXTENDED, true, true)                                        \
  X(COMBINED_TYPE_CHANGED, false, false)                                       \
  X(PRODUCT_TYPE_EXTENDED, false, false)                                       \
  X(PRODUCT_TYPE_NARROWED, true, true)                                         \
  X(SUM_TYPE_EXTENDED, true, true)                                             \
  X(SUM_TYPE_NARROWED, false, false)                                           \
  X(COMBINED_TYPE_SUBSCHEMAS_CHANGED, false, false)                            \
  X(NOT_TYPE_EXTENDED, false, false)                                           \
  X(NOT_TYPE_NARROWED, true, true)

enum class DifferenceType {
#define CANONRY_DIFFERENCE_ENUM(name, strict, lenient) name,
  CANONRY_JSON_DIFFERENCES(CANONRY_DIFFERENCE_ENUM)
#undef CANONRY_DIFFERENCE_ENUM
};

enum class JsonPolicy { kStrict, kLenient };

std::string_view difference_name(DifferenceType type);
bool is_compatible(DifferenceType type, JsonPolicy policy);

struct Difference {
  DifferenceType type;
  std::string path;  // "#/properties/address/properties/zip"
};

// Finds the schema a $ref names outside its own document (a Confluent schema reference by its
// name, possibly with a fragment): nullptr when unknown.
using ExternalRefResolver = std::function<const json::Value*(std::string_view ref)>;

// Every change from `original` to `update`, in document order.
std::vector<Difference> json_schema_differences(const json::Value& original,
                                                const json::Value& update,
                                                const ExternalRefResolver& external = {});

// The changes that stop a reader of `reader` from reading what a writer of `writer` wrote.
std::vector<Difference> json_incompatibilities(const json::Value& writer, const json::Value& reader,
                                               JsonPolicy policy,
                                               const ExternalRefResolver& external = {});

// Confluent's message for an incompatible change:
// "Found incompatible change: Difference{jsonPath='#/properties/a', type=TYPE_NARROWED}".
std::string difference_message(const Difference& difference);

}  // namespace canonry::registry
