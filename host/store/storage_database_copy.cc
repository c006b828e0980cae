// StorageDatabase's copy: every row of one database into another, through
// the storage plugins' row export and import (ABI 1.7), whatever plugin
// serves each side. The rows are passed on in batches as the source
// streams them, so memory stays flat however large the library.
#include <cstddef>
#include <string>
#include <vector>

#include "core/plugin_error.h"
#include "store/storage_database.h"

namespace nomtag {
namespace {

// Rows handed to the target's import per call.
constexpr size_t kBatch = 512;

// Owned copies of exported rows (the plugin's records live for its
// callback only), and the views the import entry takes.
class RowBatch {
 public:
  void Add(const nomtag_storage_row& row) {
    Owned o;
    o.table = row.table ? row.table : "";
    for (size_t k = 0; k < row.column_count; ++k) {
      o.names.emplace_back(row.columns[k] ? row.columns[k] : "");
      const nomtag_storage_value& v = row.values[k];
      o.values.push_back(v);
      o.bytes.emplace_back(v.bytes ? std::string(v.bytes, v.len)
                                   : std::string());
    }
    owned_.push_back(std::move(o));
  }
  size_t size() const { return owned_.size(); }

  // Views of the rows, valid until the next Add or Clear.
  const std::vector<nomtag_storage_row>& Rows() {
    rows_.clear();
    for (Owned& o : owned_) {
      o.name_ptrs.clear();
      for (const auto& n : o.names) o.name_ptrs.push_back(n.c_str());
      for (size_t k = 0; k < o.values.size(); ++k)
        if (o.values[k].bytes) o.values[k].bytes = o.bytes[k].data();
      rows_.push_back({sizeof(nomtag_storage_row), o.table.c_str(),
                       o.name_ptrs.data(), o.values.data(), o.values.size()});
    }
    return rows_;
  }
  void Clear() { owned_.clear(); }

 private:
  struct Owned {
    std::string table;
    std::vector<std::string> names;
    std::vector<const char*> name_ptrs;
    std::vector<nomtag_storage_value> values;
    std::vector<std::string> bytes;
  };
  std::vector<Owned> owned_;
  std::vector<nomtag_storage_row> rows_;
};

struct CopyState {
  const nomtag_storage* target = nullptr;
  nomtag_storage_db* target_db = nullptr;
  const StorageDatabase::CopyProgress* progress = nullptr;
  std::vector<std::pair<std::string, int64_t>>* counts = nullptr;
  RowBatch batch;
  std::string table;
  int64_t total = 0, done = 0;
  Status failure;  // the target's error, when it refused a batch

  bool Flush() {
    if (batch.size() == 0) return true;
    PluginErrorBuffer eb;
    const auto& rows = batch.Rows();
    nomtag_status st =
        target->rows_import(target_db, rows.data(), rows.size(), &eb.err);
    batch.Clear();
    if (st != NOMTAG_OK) {
      failure =
          StatusFromPlugin(st, "writing " + table + " into the copy", eb.text);
      return false;
    }
    if (*progress) (*progress)(table, done, total);
    return true;
  }
};

nomtag_status OnTable(void* ctx, const char* table, int64_t rows) {
  auto* c = static_cast<CopyState*>(ctx);
  if (!c->Flush()) return NOMTAG_ERR_IO;
  c->table = table ? table : "";
  c->total = rows;
  c->done = 0;
  c->counts->emplace_back(c->table, 0);
  if (*c->progress) (*c->progress)(c->table, 0, rows);
  return NOMTAG_OK;
}

nomtag_status OnRow(void* ctx, const nomtag_storage_row* row) {
  auto* c = static_cast<CopyState*>(ctx);
  c->batch.Add(*row);
  ++c->done;
  if (!c->counts->empty()) ++c->counts->back().second;
  if (c->batch.size() >= kBatch && !c->Flush()) return NOMTAG_ERR_IO;
  return NOMTAG_OK;
}

bool HasRowCopy(const nomtag_storage* t) {
  return NOMTAG_HAS_FIELD(t, nomtag_storage, rows_import) && t->rows_export &&
         t->rows_import_begin && t->rows_import;
}

}  // namespace

Status StorageDatabase::CopyInto(
    StorageDatabase& target, const CopyProgress& progress,
    std::vector<std::pair<std::string, int64_t>>* counts) {
  for (const StorageDatabase* d : {this, &target})
    if (!HasRowCopy(d->t_))
      return Status::Unsupported(
          "the storage plugin " + d->plugin_.id + " serving " + d->location_ +
          " predates row export and import (it needs ABI 1.7); update it");
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::lock_guard<std::recursive_mutex> target_lock(target.mu_);
  PluginErrorBuffer eb;
  nomtag_status st = target.t_->rows_import_begin(target.db_, &eb.err);
  if (st != NOMTAG_OK)
    return StatusFromPlugin(st, "copying into " + target.location_, eb.text);
  CopyState state;
  state.target = target.t_;
  state.target_db = target.db_;
  state.progress = &progress;
  state.counts = counts;
  nomtag_row_sink sink{sizeof sink, &state, OnTable, OnRow};
  PluginErrorBuffer source_eb;
  st = t_->rows_export(db_, &sink, &source_eb.err);
  if (st == NOMTAG_OK && !state.Flush()) st = NOMTAG_ERR_IO;
  if (st != NOMTAG_OK) {
    target.t_->rollback(target.db_);
    if (!state.failure.ok()) return state.failure;
    return StatusFromPlugin(st, "reading " + location_, source_eb.text);
  }
  PluginErrorBuffer commit_eb;
  st = target.t_->commit(target.db_, &commit_eb.err);
  if (st != NOMTAG_OK) {
    target.t_->rollback(target.db_);
    return StatusFromPlugin(st, "committing the copy into " + target.location_,
                            commit_eb.text);
  }
  return Status::OK();
}

}  // namespace nomtag
