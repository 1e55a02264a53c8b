// ArrowExport: describes a batch as an Arrow struct array through the Arrow C Data Interface,
// pointing straight at the batch's column buffers (nothing is copied or serialised).
//
// The export borrows the batch: the batch must neither change nor be destroyed while the export
// is in use. The release callbacks handed to the consumer only mark the structures released; the
// memory belongs to the export and the batch.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry/arrow_abi.h"
#include "telemetry/columns.h"

namespace stackhouse::telemetry {

class ArrowExport {
 public:
  ArrowExport() = default;
  ArrowExport(const ArrowExport&) = delete;
  ArrowExport& operator=(const ArrowExport&) = delete;

  // Exports `batch` (any type with forEachColumn and rows()) as one struct array.
  template <typename B>
  void exportBatch(const B& batch) {
    std::vector<Node*> columns;
    batch.forEachColumn([&](std::string_view name, const auto& column) {
      columns.push_back(exportColumn(name, column));
    });
    root_ = makeStruct("", static_cast<int64_t>(batch.rows()), columns);
  }

  // Valid after exportBatch. The consumer may call release on them.
  ArrowSchema* schema();
  ArrowArray* array();

  // The column names, in the order of the struct's children.
  std::vector<std::string_view> columnNames() const;

 private:
  struct Node {
    ArrowSchema schema{};
    ArrowArray array{};
    std::vector<const void*> buffers;
    std::vector<ArrowSchema*> schemaChildren;
    std::vector<ArrowArray*> arrayChildren;
    std::string name;
  };

  Node* makeNode(std::string_view name, const char* format, int64_t length,
                 std::vector<const void*> buffers, const std::vector<Node*>& children);
  Node* makeStruct(std::string_view name, int64_t length, const std::vector<Node*>& children);

  template <typename T, FixedKind K>
  Node* exportColumn(std::string_view name, const FixedColumn<T, K>& c) {
    return makeNode(name, fixedFormat(K), static_cast<int64_t>(c.size()),
                    {nullptr, ptr(c.values())}, {});
  }
  Node* exportColumn(std::string_view name, const StringColumn& c);
  Node* exportColumn(std::string_view name, const MapColumn& c);
  template <typename Child>
  Node* exportColumn(std::string_view name, const ListColumn<Child>& c) {
    Node* item = exportColumn("item", c.child());
    return makeNode(name, "+l", static_cast<int64_t>(c.size()), {nullptr, ptr(c.offsets())},
                    {item});
  }

  static const char* fixedFormat(FixedKind kind);
  static const void* ptr(const Buffer& b);

  std::deque<Node> nodes_;  // deque: addresses stay stable as nodes are added
  Node* root_ = nullptr;
};

// An ArrowArrayStream over several exports of the same batch type, one record batch each; the
// store scans them as one table, so many small requests become one insert without a copy.
// The stream borrows the exports; they must outlive it.
class ArrowExportStream {
 public:
  explicit ArrowExportStream(std::vector<ArrowExport*> exports);
  ArrowExportStream(const ArrowExportStream&) = delete;
  ArrowExportStream& operator=(const ArrowExportStream&) = delete;

  ArrowArrayStream* stream() { return &stream_; }

 private:
  static int getSchema(ArrowArrayStream* s, ArrowSchema* out);
  static int getNext(ArrowArrayStream* s, ArrowArray* out);
  static const char* getLastError(ArrowArrayStream* s);
  static void release(ArrowArrayStream* s);

  std::vector<ArrowExport*> exports_;
  size_t next_ = 0;
  ArrowArrayStream stream_{};
};

}  // namespace stackhouse::telemetry
