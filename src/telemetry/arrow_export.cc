#include "telemetry/arrow_export.h"

#include <cstdint>

namespace stackhouse::telemetry {

namespace {
// Stands in for the data of empty buffers: consumers expect non-null value and offset buffers.
alignas(64) const uint8_t kEmpty[64] = {};

void releaseSchema(ArrowSchema* s) { s->release = nullptr; }
void releaseArray(ArrowArray* a) { a->release = nullptr; }
}  // namespace

const void* ArrowExport::ptr(const Buffer& b) { return b.data() != nullptr ? b.data() : kEmpty; }

const char* ArrowExport::fixedFormat(FixedKind kind) {
  switch (kind) {
    case FixedKind::kTimestampNs: return "tsn:UTC";
    case FixedKind::kUInt8: return "C";
    case FixedKind::kUInt32: return "I";
    case FixedKind::kInt32: return "i";
    case FixedKind::kUInt64: return "L";
    case FixedKind::kFloat64: return "g";
    case FixedKind::kBool: return "C";
  }
  return "C";
}

ArrowExport::Node* ArrowExport::makeNode(std::string_view name, const char* format, int64_t length,
                                         std::vector<const void*> buffers,
                                         const std::vector<Node*>& children) {
  Node& n = nodes_.emplace_back();
  n.name = name;
  n.buffers = std::move(buffers);
  for (Node* c : children) {
    n.schemaChildren.push_back(&c->schema);
    n.arrayChildren.push_back(&c->array);
  }
  n.schema.format = format;
  n.schema.name = n.name.c_str();
  n.schema.metadata = nullptr;
  n.schema.flags = 0;
  n.schema.n_children = static_cast<int64_t>(children.size());
  n.schema.children = n.schemaChildren.empty() ? nullptr : n.schemaChildren.data();
  n.schema.dictionary = nullptr;
  n.schema.release = releaseSchema;
  n.schema.private_data = nullptr;

  n.array.length = length;
  n.array.null_count = 0;
  n.array.offset = 0;
  n.array.n_buffers = static_cast<int64_t>(n.buffers.size());
  n.array.buffers = n.buffers.data();
  n.array.n_children = static_cast<int64_t>(children.size());
  n.array.children = n.arrayChildren.empty() ? nullptr : n.arrayChildren.data();
  n.array.dictionary = nullptr;
  n.array.release = releaseArray;
  n.array.private_data = nullptr;
  return &n;
}

ArrowExport::Node* ArrowExport::makeStruct(std::string_view name, int64_t length,
                                           const std::vector<Node*>& children) {
  return makeNode(name, "+s", length, {nullptr}, children);
}

ArrowExport::Node* ArrowExport::exportColumn(std::string_view name, const StringColumn& c) {
  return makeNode(name, "u", static_cast<int64_t>(c.size()),
                  {nullptr, ptr(c.offsets()), ptr(c.data())}, {});
}

ArrowExport::Node* ArrowExport::exportColumn(std::string_view name, const MapColumn& c) {
  Node* key = exportColumn("key", c.keys());
  Node* value = exportColumn("value", c.values());
  Node* entries = makeStruct("entries", static_cast<int64_t>(c.keys().size()), {key, value});
  return makeNode(name, "+m", static_cast<int64_t>(c.size()), {nullptr, ptr(c.offsets())},
                  {entries});
}

ArrowSchema* ArrowExport::schema() {
  // Handing the structure out again re-arms it: a consumer may have released the previous copy.
  for (Node& n : nodes_) n.schema.release = releaseSchema;
  return &root_->schema;
}

ArrowArray* ArrowExport::array() {
  for (Node& n : nodes_) n.array.release = releaseArray;
  return &root_->array;
}

std::vector<std::string_view> ArrowExport::columnNames() const {
  std::vector<std::string_view> names;
  for (const ArrowSchema* s : root_->schemaChildren) names.emplace_back(s->name);
  return names;
}

ArrowExportStream::ArrowExportStream(std::vector<ArrowExport*> exports)
    : exports_(std::move(exports)) {
  stream_.get_schema = getSchema;
  stream_.get_next = getNext;
  stream_.get_last_error = getLastError;
  stream_.release = release;
  stream_.private_data = this;
}

int ArrowExportStream::getSchema(ArrowArrayStream* s, ArrowSchema* out) {
  auto* self = static_cast<ArrowExportStream*>(s->private_data);
  if (self->exports_.empty()) return 22;  // EINVAL
  *out = *self->exports_.front()->schema();
  return 0;
}

int ArrowExportStream::getNext(ArrowArrayStream* s, ArrowArray* out) {
  auto* self = static_cast<ArrowExportStream*>(s->private_data);
  if (self->next_ >= self->exports_.size()) {
    *out = ArrowArray{};
    out->release = nullptr;  // end of stream
    return 0;
  }
  *out = *self->exports_[self->next_++]->array();
  return 0;
}

const char* ArrowExportStream::getLastError(ArrowArrayStream*) { return nullptr; }

void ArrowExportStream::release(ArrowArrayStream* s) { s->release = nullptr; }

}  // namespace stackhouse::telemetry
