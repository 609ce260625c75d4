// Discovery output (DESIGN 4.5): a profile as a JSON Schema 2020-12 document with `x-profile`
// on every subschema, and the reservoir sampler behind `canonry discover --sample`.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "schema/profile.h"

namespace canonry::schema {

struct SchemaOptions {
  // A member is listed in `required` when its presence (count / enclosing objects) reaches this.
  double required_threshold = 1.0;
};

// The schema as indented JSON text ending with a newline.
std::string profile_to_schema(const Profile& profile, const SchemaOptions& options = {});

// Indents compact JSON text; containers whose compact form fits in `width` columns stay on one
// line, which keeps `x-profile` objects readable.
std::string pretty_json(std::string_view compact, size_t width = 100);

// Uniform sample of at most `capacity` items from a stream of unknown length (Vitter's
// algorithm R), and the merge of samples drawn from disjoint streams into a uniform sample of
// their union. Items are kept as text so that the sample outlives the arenas of the records.
class Reservoir {
 public:
  Reservoir(size_t capacity, uint64_t seed) : capacity_(capacity), random_(seed) {}

  // Whether the next item of the stream belongs to the sample; when it does, the caller passes it
  // to keep(). Deciding first spares serialising the items that are not kept.
  bool offer();
  void keep(std::string item);

  uint64_t seen() const { return seen_; }
  const std::vector<std::string>& items() const { return items_; }

  // A uniform sample of at most `capacity` items of the union of the streams behind `parts`:
  // how many to take from each follows the multivariate hypergeometric law of the stream
  // lengths, and each part's share is a uniform subset of its own uniform sample.
  static std::vector<std::string> merge(std::vector<Reservoir>& parts, size_t capacity,
                                        uint64_t seed);

 private:
  size_t capacity_;
  std::mt19937_64 random_;
  uint64_t seen_ = 0;
  size_t slot_ = 0;  // where keep() puts the item offer() accepted
  std::vector<std::string> items_;
};

}  // namespace canonry::schema
