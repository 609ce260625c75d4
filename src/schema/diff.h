// Drift between two discovered schemas or profiles (`canonry diff`, DESIGN 4.1): fields added and
// removed, type changes, presence shifts, required becoming optional and back, each judged for
// the consumers of the data: a change is breaking when a reader written against OLD can meet
// data shaped like NEW that it does not expect.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "json/value.h"

namespace canonry::schema {

// What a side knows about one field path.
struct FieldShape {
  std::vector<std::string> types;  // DESIGN 4.2 names, sorted
  double presence = -1;            // -1 when unknown (a schema without x-profile)
  bool can_be_required = false;    // a member of an object (not `$`, `[*]`, `.*`)
  bool required = false;
};

// Field paths in document order (parents before children).
struct Shape {
  std::vector<std::pair<std::string, FieldShape>> fields;
  const FieldShape* find(std::string_view path) const;
};

// A schema as written by `canonry discover` (any JSON Schema with properties / items /
// additionalProperties works; x-profile adds exact types and presence), or the JSON lines of
// `--output profile` (a member is then required when its presence reaches `required_threshold`).
// Which of the two `text` is, is recognised from its first line.
Result<Shape> load_shape(std::string_view text, double required_threshold);

struct DiffOptions {
  // Presence changes at least this large (absolute, 0..1) are reported.
  double presence_threshold = 0.1;
};

struct Change {
  std::string path;
  // added, removed, type-widened, type-narrowed, type-changed, required-to-optional,
  // optional-to-required, presence-changed
  std::string kind;
  std::string old_json;  // JSON text of the old and new value ("null" when not applicable)
  std::string new_json;
  bool breaking = false;
};

std::vector<Change> diff_shapes(const Shape& old_shape, const Shape& new_shape,
                                const DiffOptions& options = {});

// {"compatibility": "backward-compatible" | "breaking", "summary": {kind: n}, "changes": [...]}
std::string changes_to_json(const std::vector<Change>& changes);
// One line per change and a verdict, for people.
std::string changes_to_text(const std::vector<Change>& changes);

}  // namespace canonry::schema
