// Row export and import over SOCI. Every value is read and bound with a
// type fixed by the column list below (never guessed from the engine's
// column type), so SQLite's and PostgreSQL's rows come out alike; an
// embedding travels as hex in SQL and as bytes through the ABI.
#include "row_copy.h"

#include <soci/soci.h>

#include <cstring>
#include <memory>
#include <nomtag/cpp/error.hpp>
#include <string>
#include <vector>

#include "soci_rows.h"
#include "storage_db.h"

namespace nomtag::sqlstore {
namespace {

using sdk::Error;

enum class Kind { kInt, kReal, kText, kBytes };

struct Column {
  const char* name;
  Kind kind;
};

struct Table {
  const char* name;
  const char* order_by;
  std::vector<Column> columns;
};

constexpr Kind I = Kind::kInt, R = Kind::kReal, T = Kind::kText,
               B = Kind::kBytes;

// Every table a user's library lives in, parents first. Left out on
// purpose: the claims (write_claimed_by, write_claimed_at,
// claim_expires_at; analyses.claimed_by, claimed_at), which belong to
// workers of the source database, and what the target derives itself
// (SQLite's desired_key and pending_count, kept by its triggers). A
// file's claim_token is copied: it is the fence counter, and keeping it
// keeps every later token above every earlier one.
const std::vector<Table>& Tables() {
  static const std::vector<Table> tables = {
      {"libraries",
       "id",
       {{"id", I},
        {"name", T},
        {"root", T},
        {"file_write_mode", T},
        {"keep_mtime", I},
        {"write_strategy", T},
        {"hardlinks", T},
        {"padding", I}}},
      {"calibration", "id", {{"id", I}, {"hash", T}, {"definition", T}}},
      {"files",
       "id",
       {{"id", I},
        {"library_id", I},
        {"path", T},
        {"size", I},
        {"mtime_ns", I},
        {"format", T},
        {"missing", I},
        {"has_nomarr_namespace", I},
        {"last_written_mode", T},
        {"last_written_calibration_hash", T},
        {"last_written_at", I},
        {"written_key", T},
        {"tags_rev", I},
        {"written_tags_rev", I},
        {"claim_token", I},
        {"last_error", T},
        {"dev", I},
        {"inode", I},
        {"written_digest", T}}},
      {"tags",
       "file_id, tag_key, position",
       {{"file_id", I}, {"tag_key", T}, {"position", I}, {"value", T}}},
      {"analyses",
       "file_id, plugin_id",
       {{"file_id", I},
        {"plugin_id", T},
        {"plugin_version", T},
        {"settings_digest", T},
        {"size", I},
        {"mtime_ns", I},
        {"analysed_at", I},
        {"error", T},
        {"audio_seconds", R},
        {"claim_token", I}}},
      {"analysis_heads",
       "file_id, plugin_id, model_id, label",
       {{"file_id", I},
        {"plugin_id", T},
        {"model_id", T},
        {"label", T},
        {"score", R},
        {"spread", R},
        {"opposite", T}}},
      {"analysis_descriptors",
       "file_id, plugin_id, name",
       {{"file_id", I}, {"plugin_id", T}, {"name", T}, {"value", R}}},
      {"analysis_embeddings",
       "file_id, plugin_id",
       {{"file_id", I}, {"plugin_id", T}, {"model_id", T}, {"vector", B}}},
  };
  return tables;
}

const Table* FindTable(const char* name) {
  for (const Table& t : Tables())
    if (name && std::strcmp(t.name, name) == 0) return &t;
  return nullptr;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string FromHex(const std::string& hex) {
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    int hi = Hex(hex[i]), lo = Hex(hex[i + 1]);
    if (hi < 0 || lo < 0)
      throw Error(NOMTAG_ERR_CORRUPT, "an embedding's bytes did not read back");
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

// One column's value, read or to bind, with the holder SOCI exchanges.
struct Cell {
  long long i = 0;
  double r = 0;
  std::string s;
  soci::indicator ind = soci::i_ok;
};

enum class Way { kInto, kUse };

// Binds each cell to st, typed by its column's kind, then prepares sql.
void BindAndPrepare(soci::statement& st, std::vector<Cell>& cells,
                    const std::vector<Kind>& kinds, Way way,
                    const std::string& sql) {
  for (size_t k = 0; k < cells.size(); ++k) {
    Cell& c = cells[k];
    const bool in = way == Way::kInto;
    switch (kinds[k]) {
      case Kind::kInt:
        in ? st.exchange(soci::into(c.i, c.ind))
           : st.exchange(soci::use(c.i, c.ind));
        break;
      case Kind::kReal:
        in ? st.exchange(soci::into(c.r, c.ind))
           : st.exchange(soci::use(c.r, c.ind));
        break;
      case Kind::kText:
      case Kind::kBytes:
        in ? st.exchange(soci::into(c.s, c.ind))
           : st.exchange(soci::use(c.s, c.ind));
        break;
    }
  }
  st.alloc();
  st.prepare(sql);
  st.define_and_bind();
}

// Workers (live ones: their lock is held) with a claim in the database.
std::vector<std::string> LiveClaimers(nomtag_storage_db* db) {
  std::vector<std::string> ids, live;
  std::string id;
  soci::statement st =
      (db->sql.prepare << "SELECT write_claimed_by FROM files WHERE "
                          "write_claimed_by IS NOT NULL UNION SELECT "
                          "claimed_by FROM analyses WHERE claimed_by IS NOT "
                          "NULL",
       soci::into(id));
  st.execute();
  while (st.fetch()) ids.push_back(id);
  for (const std::string& w : ids)
    if (db->backend->IsWorkerAlive(db, w)) live.push_back(w);
  return live;
}

void ExportTable(nomtag_storage_db* db, const Table& t,
                 const nomtag_row_sink* sink) {
  const Dialect& d = db->backend->dialect();
  long long total = 0;
  db->sql << std::string("SELECT COUNT(*) FROM ") + t.name, soci::into(total);
  if (sink->table) {
    nomtag_status s = sink->table(sink->ctx, t.name, total);
    if (s != NOMTAG_OK) throw Error(s, "the row sink refused a table");
  }
  std::string select = "SELECT ";
  for (size_t k = 0; k < t.columns.size(); ++k) {
    const Column& c = t.columns[k];
    if (k) select += ", ";
    select += c.kind == Kind::kBytes
                  ? std::string(d.blob_hex_open) + c.name + d.blob_hex_close
                  : std::string(c.name);
  }
  select += std::string(" FROM ") + t.name + " ORDER BY " + t.order_by;

  const size_t n = t.columns.size();
  std::vector<Cell> cells(n);
  std::vector<Kind> kinds;
  for (const Column& c : t.columns) kinds.push_back(c.kind);
  soci::statement st(db->sql);
  BindAndPrepare(st, cells, kinds, Way::kInto, select);
  st.execute();

  std::vector<const char*> names(n);
  for (size_t k = 0; k < n; ++k) names[k] = t.columns[k].name;
  std::vector<nomtag_storage_value> values(n);
  std::vector<std::string> bytes(n);
  while (st.fetch()) {
    for (size_t k = 0; k < n; ++k) {
      Cell& c = cells[k];
      nomtag_storage_value& v = values[k];
      v = nomtag_storage_value{};
      if (c.ind == soci::i_null) continue;  // NOMTAG_VALUE_NULL
      switch (t.columns[k].kind) {
        case Kind::kInt:
          v.type = NOMTAG_VALUE_INT;
          v.i = c.i;
          break;
        case Kind::kReal:
          v.type = NOMTAG_VALUE_REAL;
          v.r = c.r;
          break;
        case Kind::kText:
          v.type = NOMTAG_VALUE_TEXT;
          v.bytes = c.s.data();
          v.len = c.s.size();
          break;
        case Kind::kBytes:
          bytes[k] = FromHex(c.s);
          v.type = NOMTAG_VALUE_BYTES;
          v.bytes = bytes[k].data();
          v.len = bytes[k].size();
          break;
      }
    }
    nomtag_storage_row row{sizeof row, t.name, names.data(), values.data(), n};
    nomtag_status s = sink->row(sink->ctx, &row);
    if (s != NOMTAG_OK) throw Error(s, "the row sink refused a row");
  }
}

// The INSERT for one shape of row (a table and the columns it names), its
// cells bound once and refilled for each row.
class Inserter {
 public:
  Inserter(nomtag_storage_db* db, const Table& table,
           const nomtag_storage_row& row)
      : table_(table), st_(db->sql) {
    std::string cols, params;
    for (size_t k = 0; k < row.column_count; ++k) {
      const char* name = row.columns[k];
      size_t at = 0;
      while (at < table.columns.size() &&
             std::strcmp(table.columns[at].name, name ? name : "") != 0)
        ++at;
      if (at == table.columns.size())
        throw Error(NOMTAG_ERR_UNSUPPORTED,
                    std::string("this storage plugin does not know column ") +
                        (name ? name : "(null)") + " of table " + table.name +
                        " (exported by a newer nomtag?); nothing was copied");
      columns_.push_back(at);
      names_.emplace_back(name);
      cols += (k ? ", " : "") + std::string(name);
      params += (k ? ", :c" : ":c") + std::to_string(k);
    }
    cells_.resize(row.column_count);
    std::vector<Kind> kinds;
    for (size_t at : columns_) kinds.push_back(table.columns[at].kind);
    BindAndPrepare(st_, cells_, kinds, Way::kUse,
                   std::string("INSERT INTO ") + table.name + " (" + cols +
                       ") VALUES (" + params + ")");
  }

  // Whether row has the shape this INSERT was made for.
  bool Fits(const nomtag_storage_row& row) const {
    if (row.column_count != names_.size() ||
        std::strcmp(row.table, table_.name) != 0)
      return false;
    for (size_t k = 0; k < names_.size(); ++k)
      if (!row.columns[k] || names_[k] != row.columns[k]) return false;
    return true;
  }

  void Insert(const nomtag_storage_row& row) {
    for (size_t k = 0; k < cells_.size(); ++k) Fill(row, k);
    st_.execute(true);
  }

 private:
  void Fill(const nomtag_storage_row& row, size_t k) {
    const nomtag_storage_value& v = row.values[k];
    const Column& col = table_.columns[columns_[k]];
    Cell& c = cells_[k];
    c.ind = soci::i_ok;
    if (v.type == NOMTAG_VALUE_NULL) {
      c.ind = soci::i_null;
      return;
    }
    const bool fits =
        (col.kind == Kind::kInt && v.type == NOMTAG_VALUE_INT) ||
        (col.kind == Kind::kReal &&
         (v.type == NOMTAG_VALUE_REAL || v.type == NOMTAG_VALUE_INT)) ||
        (col.kind == Kind::kText && v.type == NOMTAG_VALUE_TEXT) ||
        (col.kind == Kind::kBytes && v.type == NOMTAG_VALUE_BYTES);
    if (!fits)
      throw Error(NOMTAG_ERR_INVALID_ARGUMENT,
                  std::string("a value of the wrong type for column ") +
                      col.name + " of table " + table_.name);
    c.i = v.i;
    c.r = v.type == NOMTAG_VALUE_INT ? static_cast<double>(v.i) : v.r;
    c.s.assign(v.bytes ? v.bytes : "", v.bytes ? v.len : 0);
  }

  const Table& table_;
  std::vector<size_t> columns_;  // into table_.columns, per bound cell
  std::vector<std::string> names_;
  std::vector<Cell> cells_;
  soci::statement st_;
};

// An embedding: through the backend, which knows its engine's binary type.
void InsertEmbedding(nomtag_storage_db* db, const nomtag_storage_row& row) {
  long long file = 0;
  std::string plugin, model, vec;
  int seen = 0;
  for (size_t k = 0; k < row.column_count; ++k) {
    const nomtag_storage_value& v = row.values[k];
    const std::string name = row.columns[k] ? row.columns[k] : "";
    std::string bytes(v.bytes ? v.bytes : "", v.bytes ? v.len : 0);
    if (name == "file_id" && v.type == NOMTAG_VALUE_INT) {
      file = v.i;
    } else if (name == "plugin_id" && v.type == NOMTAG_VALUE_TEXT) {
      plugin = bytes;
    } else if (name == "model_id" && v.type == NOMTAG_VALUE_TEXT) {
      model = bytes;
    } else if (name == "vector" && v.type == NOMTAG_VALUE_BYTES) {
      vec = bytes;
    } else {
      throw Error(NOMTAG_ERR_UNSUPPORTED,
                  "analysis_embeddings: unknown column or a value of the "
                  "wrong type: " +
                      name + "; nothing was copied");
    }
    ++seen;
  }
  if (seen != 4)
    throw Error(NOMTAG_ERR_INVALID_ARGUMENT,
                "analysis_embeddings: a row without file_id, plugin_id, "
                "model_id and vector");
  db->backend->StoreEmbedding(db, file, plugin, model, vec);
}

}  // namespace

nomtag_status RowsExport(nomtag_storage_db* db, const nomtag_row_sink* sink,
                         nomtag_error* err) {
  return Guard(db, err, [&] {
    if (!sink || !sink->row)
      throw Error(NOMTAG_ERR_INVALID_ARGUMENT, "rows_export needs a row sink");
    db->sql << db->backend->dialect().begin_snapshot;
    RollBackOnError(db, [&] {
      std::vector<std::string> live = LiveClaimers(db);
      if (!live.empty()) {
        std::string list;
        for (const auto& w : live) list += (list.empty() ? "" : ", ") + w;
        throw Error(NOMTAG_ERR_REFUSED,
                    "workers are running on " + db->location +
                        " and hold claims (" + list +
                        "): what they write would be missing from the copy; "
                        "copy once they have finished or been stopped");
      }
      for (const Table& t : Tables()) ExportTable(db, t, sink);
      db->sql << "COMMIT";
    });
  });
}

nomtag_status RowsImportBegin(nomtag_storage_db* db, nomtag_error* err) {
  return Guard(db, err, [&] {
    if (db->read_only)
      throw Error(NOMTAG_ERR_REFUSED, db->location + " was opened read-only");
    db->sql << db->backend->dialect().begin_write;
    // Left open on success: rows_import adds to it, the host ends it.
    RollBackOnError(db, [&] {
      long long libraries = 0, files = 0, calibrations = 0;
      db->sql << "SELECT COUNT(*) FROM libraries", soci::into(libraries);
      db->sql << "SELECT COUNT(*) FROM files", soci::into(files);
      db->sql << "SELECT COUNT(*) FROM calibration WHERE hash IS NOT NULL "
                 "AND hash <> ''",
          soci::into(calibrations);
      if (libraries + files + calibrations > 0)
        throw Error(NOMTAG_ERR_REFUSED,
                    db->location + " is not empty (" +
                        std::to_string(libraries) + " libraries, " +
                        std::to_string(files) + " files" +
                        (calibrations ? ", a calibration" : "") +
                        "): a copy goes into a new or empty database only, "
                        "and nothing was changed");
      // A cleared calibration leaves its row: the copy brings its own.
      db->sql << "DELETE FROM calibration";
    });
    db->in_transaction = true;  // the host's commit or rollback ends it
    db->importing = true;
  });
}

nomtag_status RowsImport(nomtag_storage_db* db, const nomtag_storage_row* rows,
                         size_t count, nomtag_error* err) {
  return Guard(db, err, [&] {
    std::unique_ptr<Inserter> insert;
    bool ids_given = false;
    for (size_t r = 0; r < count; ++r) {
      const nomtag_storage_row& row = rows[r];
      const Table* table = FindTable(row.table);
      if (!table)
        throw Error(NOMTAG_ERR_UNSUPPORTED,
                    std::string("this storage plugin keeps no table ") +
                        (row.table ? row.table : "(null)") +
                        " (exported by a newer nomtag?); nothing was copied");
      if (std::strcmp(table->name, "analysis_embeddings") == 0) {
        InsertEmbedding(db, row);
        continue;
      }
      if (!insert || !insert->Fits(row))
        insert = std::make_unique<Inserter>(db, *table, row);
      insert->Insert(row);
      ids_given |= std::strcmp(table->name, "libraries") == 0 ||
                   std::strcmp(table->name, "files") == 0;
    }
    if (ids_given) db->backend->AfterIdsGiven(db);
  });
}

void FinishImport(nomtag_storage_db* db) {
  db->importing = false;
  if (!db->backend->dialect().analyze_after_import) return;
  // One table at a time: SQLite's ANALYZE takes one name, PostgreSQL's
  // takes any number, both take this.
  for (const Table& t : Tables()) db->sql << std::string("ANALYZE ") + t.name;
}

}  // namespace nomtag::sqlstore
