// The storage table (nomtag/storage.h) over SOCI, for every SQL engine a
// storage plugin runs on: libraries, files, tags, calibration and fenced
// claims. What differs between engines is the plugin's Backend
// (backend.h); opening a database is the plugin's own.
#include "storage_table.h"

#include <soci/soci.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nomtag/cpp/error.hpp>
#include <string>
#include <vector>

#include "analysis_store.h"
#include "prepared_statements.h"
#include "queries.h"
#include "row_copy.h"
#include "soci_rows.h"
#include "storage_db.h"

namespace nomtag::sqlstore {
namespace {

using sdk::Error;

void Close(nomtag_storage_db* db) { delete db; }
const char* Location(nomtag_storage_db* db) { return db->location.c_str(); }

nomtag_status Begin(nomtag_storage_db* db, nomtag_error* err) {
  return Guard(db, err, [&] {
    db->sql << db->backend->dialect().begin_write;
    db->in_transaction = true;
  });
}
nomtag_status Commit(nomtag_storage_db* db, nomtag_error* err) {
  return Guard(db, err, [&] {
    if (db->importing) FinishImport(db);
    db->sql << "COMMIT";
    db->in_transaction = false;
  });
}
void Rollback(nomtag_storage_db* db) {
  db->in_transaction = false;
  db->importing = false;
  try {
    db->sql << "ROLLBACK";
  } catch (...) {  // nothing to roll back
  }
}

void CheckChoice(const std::string& value, const char* what,
                 std::initializer_list<const char*> allowed) {
  std::string list;
  for (const char* a : allowed) {
    if (value == a) return;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  throw Error(NOMTAG_ERR_INVALID_ARGUMENT, "unknown " + std::string(what) +
                                               " '" + value + "' (expected " +
                                               list + ")");
}

// The schema's CHECK holds the same bound: 16 MiB is already far more
// room than any tag needs.
constexpr uint32_t kMaxPadding = 16u << 20;

// A host before ABI 1.1 sends no padding: it means the default.
uint32_t Padding(const nomtag_library_info* info) {
  return NOMTAG_HAS_FIELD(info, nomtag_library_info, padding) ? info->padding
                                                              : 0;
}

void CheckLibrary(const nomtag_library_info* info) {
  CheckChoice(Text(info->file_write_mode), "write mode",
              {"none", "minimal", "full"});
  CheckChoice(Text(info->write_strategy), "write strategy", {"auto", "copy"});
  CheckChoice(Text(info->hardlinks), "hardlinks option", {"keep", "break"});
  if (Padding(info) > kMaxPadding)
    throw Error(NOMTAG_ERR_INVALID_ARGUMENT,
                "padding of " + std::to_string(Padding(info)) +
                    " bytes is more than the " + std::to_string(kMaxPadding) +
                    " a library may ask for");
}

std::string CalibrationHash(soci::session& sql) {
  std::string hash;
  soci::indicator ind = soci::i_null;
  sql << "SELECT hash FROM calibration WHERE id = 1", soci::into(hash, ind);
  return sql.got_data() && ind == soci::i_ok ? hash : "";
}

// What written_key must be for a file of the library to be in sync.
std::string WrittenKey(const std::string& mode, const std::string& hash) {
  return mode == "none" ? "none|" : mode + "|" + hash;
}

std::string DesiredKey(soci::session& sql, int64_t library_id) {
  std::string mode;
  long long id = library_id;
  sql << "SELECT file_write_mode FROM libraries WHERE id = :id", soci::use(id),
      soci::into(mode);
  if (!sql.got_data())
    throw Error(NOMTAG_ERR_NOT_FOUND,
                "no library with id " + std::to_string(library_id));
  return WrittenKey(mode, CalibrationHash(sql));
}

// How many of the library's files need reconciliation: the count the
// schema's triggers keep (one row, whatever the library's size) where the
// dialect keeps one, else the four index ranges.
long long PendingCount(nomtag_storage_db* db, int64_t library_id) {
  long long n = 0, id = library_id;
  if (!db->backend->dialect().pending_count_kept) {
    std::string dk = DesiredKey(db->sql, library_id);
    db->sql << db->backend->queries().count_needing, soci::use(id, "lib"),
        soci::use(dk, "dk"), soci::into(n);
    return n;
  }
  db->sql << kReadPendingCount, soci::use(id, "lib"), soci::into(n);
  if (!db->sql.got_data())
    throw Error(NOMTAG_ERR_NOT_FOUND,
                "no library with id " + std::to_string(library_id));
  return n;
}

// --- libraries --------------------------------------------------------

nomtag_status LibraryAdd(nomtag_storage_db* db, const nomtag_library_info* info,
                         int64_t* out_id, nomtag_error* err) {
  return Guard(db, err, [&] {
    CheckLibrary(info);
    std::string name = Text(info->name), root = Text(info->root);
    if (name.empty() || root.empty())
      throw Error(NOMTAG_ERR_INVALID_ARGUMENT,
                  "a library needs a name and a root");
    int exists = 0;
    db->sql << "SELECT COUNT(*) FROM libraries WHERE name = :n",
        soci::use(name), soci::into(exists);
    if (exists)
      throw Error(NOMTAG_ERR_INVALID_ARGUMENT,
                  "a library named '" + name + "' already exists");
    std::string mode = info->file_write_mode, strategy = info->write_strategy,
                links = info->hardlinks;
    int keep = info->keep_mtime ? 1 : 0;
    long long padding = Padding(info);
    db->sql << "INSERT INTO libraries (name, root, file_write_mode, keep_mtime,"
               " write_strategy, hardlinks, padding)"
               " VALUES (:n, :r, :m, :k, :s, :h, :p)",
        soci::use(name), soci::use(root), soci::use(mode), soci::use(keep),
        soci::use(strategy), soci::use(links), soci::use(padding);
    // The name is unique: how every engine finds the new row's id.
    long long id = 0;
    db->sql << "SELECT id FROM libraries WHERE name = :n", soci::use(name),
        soci::into(id);
    *out_id = id;
  });
}

nomtag_status LibraryList(nomtag_storage_db* db,
                          const nomtag_library_sink* sink, nomtag_error* err) {
  return Guard(db, err, [&] {
    soci::rowset<soci::row> rows =
        (db->sql.prepare
         << "SELECT id, name, root, file_write_mode, keep_mtime, "
            "write_strategy, hardlinks, padding FROM libraries ORDER BY "
            "id");
    for (const auto& r : rows) {
      std::string name = Str(r, 1), root = Str(r, 2), mode = Str(r, 3),
                  strategy = Str(r, 5), links = Str(r, 6);
      nomtag_library_info info{
          sizeof info,      Int(r, 0),     name.c_str(),
          root.c_str(),     mode.c_str(),  static_cast<int32_t>(Int(r, 4)),
          strategy.c_str(), links.c_str(), static_cast<uint32_t>(Int(r, 7))};
      nomtag_status st = sink->library(sink->ctx, &info);
      if (st != NOMTAG_OK) throw Error(st, "library sink refused");
    }
  });
}

nomtag_status LibraryUpdate(nomtag_storage_db* db,
                            const nomtag_library_info* info,
                            int64_t* out_affected, nomtag_error* err) {
  return Guard(db, err, [&] {
    CheckLibrary(info);
    std::string mode = info->file_write_mode, strategy = info->write_strategy,
                links = info->hardlinks;
    int keep = info->keep_mtime ? 1 : 0;
    long long id = info->id;
    // An older host sends no padding: leave what is stored.
    long long padding = Padding(info);
    int has_padding =
        NOMTAG_HAS_FIELD(info, nomtag_library_info, padding) ? 1 : 0;
    soci::statement st =
        (db->sql.prepare
             << "UPDATE libraries SET file_write_mode = :m, keep_mtime = :k, "
                "write_strategy = :s, hardlinks = :h, padding = CASE WHEN :hp "
                "= 1 "
                "THEN :p ELSE padding END WHERE id = :id",
         soci::use(mode), soci::use(keep), soci::use(strategy),
         soci::use(links), soci::use(has_padding), soci::use(padding),
         soci::use(id));
    st.execute(true);
    if (st.get_affected_rows() == 0)
      throw Error(NOMTAG_ERR_NOT_FOUND,
                  "no library with id " + std::to_string(id));
    *out_affected = PendingCount(db, id);
  });
}

// Refused while a live worker claims one of the library's files (for
// writing or for analysis): that worker would find its rows gone halfway.
// Claims of dead workers are only leftovers and go with the rows.
nomtag_status LibraryRemove(nomtag_storage_db* db, int64_t library_id,
                            nomtag_error* err) {
  return Guard(db, err, [&] {
    long long id = library_id;
    // BEGIN IMMEDIATE: no worker can claim a file between the check and
    // the delete.
    InTransaction(db, [&] {
      int exists = 0;
      db->sql << "SELECT COUNT(*) FROM libraries WHERE id = :id", soci::use(id),
          soci::into(exists);
      if (!exists)
        throw Error(NOMTAG_ERR_NOT_FOUND,
                    "no library with id " + std::to_string(library_id));
      soci::rowset<std::string> holders =
          (db->sql.prepare
               << "SELECT DISTINCT write_claimed_by FROM files WHERE library_id"
                  " = :id AND write_claimed_by IS NOT NULL UNION SELECT "
                  "DISTINCT a.claimed_by FROM analyses a JOIN files f ON f.id "
                  "= "
                  "a.file_id WHERE f.library_id = :id AND a.claimed_by IS NOT "
                  "NULL",
           soci::use(id, "id"));
      for (const std::string& worker : holders)
        if (db->backend->IsWorkerAlive(db, worker))
          throw Error(NOMTAG_ERR_REFUSED,
                      "a running worker (" + worker +
                          ") holds files of this library; remove it once that "
                          "run has ended");
      // Files first, so that their triggers still find the library's row.
      db->sql << "DELETE FROM files WHERE library_id = :id", soci::use(id);
      db->sql << "DELETE FROM libraries WHERE id = :id", soci::use(id);
    });
  });
}

// --- files ----------------------------------------------------------------

nomtag_status FileList(nomtag_storage_db* db, int64_t library_id,
                       const nomtag_file_sink* sink, nomtag_error* err) {
  return Guard(
      db, err, [&] {
        long long lib = library_id;
        soci::rowset<soci::row> rows =
            (db->sql.prepare
                 << "SELECT id, path, size, mtime_ns, format, "
                    "has_nomarr_namespace, "
                    "last_written_mode, missing, dev, inode FROM files WHERE "
                    "library_id = :lib ORDER BY path",
             soci::use(lib));
        for (const auto& r : rows) {
          std::string path = Str(r, 1);
          std::string format = Str(r, 4);
          std::string mode = Str(r, 6);
          nomtag_file_info info{sizeof info,
                                Int(r, 0),
                                path.c_str(),
                                static_cast<uint64_t>(Int(r, 2)),
                                Int(r, 3),
                                format.c_str(),
                                static_cast<int32_t>(Int(r, 5)),
                                mode.empty() ? nullptr : mode.c_str(),
                                static_cast<int32_t>(Int(r, 7)),
                                static_cast<uint64_t>(Int(r, 8)),
                                static_cast<uint64_t>(Int(r, 9)),
                                nullptr};
          nomtag_status st = sink->file(sink->ctx, &info);
          if (st != NOMTAG_OK) throw Error(st, "file sink refused");
        }
      });
}

nomtag_status FileRecord(nomtag_storage_db* db, int64_t library_id,
                         const nomtag_file_info* info, nomtag_error* err) {
  return Guard(db, err, [&] {
    long long lib = library_id, size = static_cast<long long>(info->size),
              mtime = info->mtime_ns, dev = 0, inode = 0;
    std::string path = Text(info->path), format = Text(info->format);
    int has_ns = info->has_namespace ? 1 : 0;
    std::string inferred = Text(info->inferred_mode);
    soci::indicator inferred_ind = inferred.empty() ? soci::i_null : soci::i_ok;
    std::string digest;
    if (NOMTAG_HAS_FIELD(info, nomtag_file_info, namespace_digest)) {
      dev = static_cast<long long>(info->dev);
      inode = static_cast<long long>(info->inode);
      digest = Text(info->namespace_digest);
    }
    soci::indicator digest_ind = digest.empty() ? soci::i_null : soci::i_ok;
    // The inferred mode only describes files nomtag never wrote — or
    // whose namespace is no longer what nomtag wrote (someone rewrote the
    // file since): what the scan reads is the truth, so such a file
    // counts as never written and is due again.
#define NOMTAG_REWRITTEN                                                 \
  "(CAST(:dg AS TEXT) IS NOT NULL AND files.written_digest IS NOT NULL " \
  "AND files.written_digest <> CAST(:dg AS TEXT))"
    db->sql << "INSERT INTO files (library_id, path, size, mtime_ns, format, "
               "has_nomarr_namespace, last_written_mode, missing, dev, inode) "
               "VALUES (:lib, :path, :size, :mtime, :format, :ns, :mode, 0, "
               ":dev, :inode) "
               "ON CONFLICT (library_id, path) DO UPDATE SET "
               "size = excluded.size, mtime_ns = excluded.mtime_ns, "
               "format = excluded.format, "
               "has_nomarr_namespace = excluded.has_nomarr_namespace, "
               "dev = excluded.dev, inode = excluded.inode, "
               "missing = 0, last_written_mode = CASE WHEN "
               "files.written_key IS NULL OR " NOMTAG_REWRITTEN
               " THEN excluded.last_written_mode "
               "ELSE files.last_written_mode END, "
               "written_key = CASE WHEN " NOMTAG_REWRITTEN
               " THEN NULL ELSE files.written_key END, "
               "written_digest = CASE WHEN " NOMTAG_REWRITTEN
               " THEN NULL ELSE files.written_digest END",
        soci::use(lib, "lib"), soci::use(path, "path"), soci::use(size, "size"),
        soci::use(mtime, "mtime"), soci::use(format, "format"),
        soci::use(has_ns, "ns"), soci::use(inferred, inferred_ind, "mode"),
        soci::use(dev, "dev"), soci::use(inode, "inode"),
        soci::use(digest, digest_ind, "dg");
#undef NOMTAG_REWRITTEN
  });
}

// A file moved or renamed within its library keeps its row, and so its
// tags and projection state.
nomtag_status FileMove(nomtag_storage_db* db, int64_t file_id,
                       const char* new_path, nomtag_error* err) {
  return Guard(db, err, [&] {
    long long id = file_id;
    std::string path = Text(new_path);
    int taken = 0;
    db->sql << "SELECT COUNT(*) FROM files WHERE path = :p AND library_id = "
               "(SELECT library_id FROM files WHERE id = :id)",
        soci::use(path, "p"), soci::use(id, "id"), soci::into(taken);
    if (taken)
      throw Error(NOMTAG_ERR_INVALID_ARGUMENT,
                  "cannot move a row to " + path + ": it already has one");
    soci::statement st =
        (db->sql.prepare << "UPDATE files SET path = :p WHERE id = :id",
         soci::use(path, "p"), soci::use(id, "id"));
    st.execute(true);
    if (st.get_affected_rows() != 1)
      throw Error(NOMTAG_ERR_NOT_FOUND,
                  "no file with id " + std::to_string(file_id));
  });
}

nomtag_status FileMarkMissing(nomtag_storage_db* db, const int64_t* ids,
                              size_t count, nomtag_error* err) {
  return Guard(db, err, [&] {
    long long id = 0;
    soci::statement st =
        (db->sql.prepare << "UPDATE files SET missing = 1 WHERE id = :id",
         soci::use(id));
    for (size_t i = 0; i < count; ++i) {
      id = ids[i];
      st.execute(true);
    }
  });
}

// --- tags -----------------------------------------------------------------

using Tags = std::map<std::string, std::vector<std::string>>;

Tags ReadTags(soci::session& sql, long long file_id) {
  Tags tags;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT tag_key, value FROM tags WHERE file_id = :id "
                      "ORDER BY tag_key, position",
       soci::use(file_id));
  for (const auto& r : rows) tags[Str(r, 0)].push_back(Str(r, 1));
  return tags;
}

nomtag_status TagsReplace(nomtag_storage_db* db, int64_t library_id,
                          const char* path_c, const nomtag_tag* tags,
                          size_t count, nomtag_error* err) {
  return Guard(db, err, [&] {
    Tags want;
    for (size_t i = 0; i < count; ++i) {
      auto& values = want[std::string(tags[i].key.data, tags[i].key.len)];
      for (size_t v = 0; v < tags[i].value_count; ++v)
        values.emplace_back(tags[i].values[v].data, tags[i].values[v].len);
    }
    long long lib = library_id, file_id = 0;
    std::string path = Text(path_c);
    db->sql << "INSERT INTO files (library_id, path) VALUES (:lib, :path) "
               "ON CONFLICT (library_id, path) DO NOTHING",
        soci::use(lib), soci::use(path);
    db->sql << "SELECT id FROM files WHERE library_id = :lib AND path = :path",
        soci::use(lib), soci::use(path), soci::into(file_id);
    // Unchanged tags keep their revision: re-importing does not mark
    // files as needing a write.
    if (ReadTags(db->sql, file_id) == want) return;
    db->sql << "DELETE FROM tags WHERE file_id = :id", soci::use(file_id);
    for (const auto& [key, values] : want)
      for (size_t i = 0; i < values.size(); ++i) {
        int pos = static_cast<int>(i);
        db->sql << "INSERT INTO tags (file_id, tag_key, position, value) "
                   "VALUES (:f, :k, :p, :v)",
            soci::use(file_id), soci::use(key), soci::use(pos),
            soci::use(values[i]);
      }
    db->sql << "UPDATE files SET tags_rev = tags_rev + 1 WHERE id = :id",
        soci::use(file_id);
  });
}

nomtag_status TagsGet(nomtag_storage_db* db, int64_t file_id,
                      const nomtag_tag_sink* sink, nomtag_error* err) {
  return Guard(db, err, [&] {
    // Once per file of a reconcile: prepared once.
    ForEachRowById(db,
                   "SELECT tag_key, value FROM tags WHERE file_id = :id "
                   "ORDER BY tag_key, position",
                   file_id, [&](const soci::row& r) {
                     std::string key = Str(r, 0), v = Str(r, 1);
                     nomtag_status st =
                         sink->add(sink->ctx, key.data(), key.size(), v.data(),
                                   v.size(), NOMTAG_ENCODING_CURRENT);
                     if (st != NOMTAG_OK) throw Error(st, "tag sink refused");
                   });
  });
}

// --- calibration ------------------------------------------------------------

nomtag_status CalibrationSet(nomtag_storage_db* db, const char* hash,
                             const char* definition, nomtag_error* err) {
  return Guard(db, err, [&] {
    std::string h = Text(hash), d = Text(definition);
    soci::indicator hi = h.empty() ? soci::i_null : soci::i_ok;
    InTransaction(db, [&] {
      db->sql << "DELETE FROM calibration";
      db->sql << "INSERT INTO calibration (id, hash, definition) VALUES "
                 "(1, :h, :d)",
          soci::use(h, hi), soci::use(d);
    });
  });
}

nomtag_status CalibrationGet(nomtag_storage_db* db, char* buf, size_t cap,
                             nomtag_error* err) {
  return Guard(db, err, [&] {
    std::string h = CalibrationHash(db->sql);
    if (h.size() + 1 > cap)
      throw Error(NOMTAG_ERR_INVALID_ARGUMENT,
                  "calibration hash buffer too small");
    std::copy(h.begin(), h.end(), buf);
    buf[h.size()] = '\0';
  });
}

// --- reconciliation ---------------------------------------------------------

// Takes back, in the open transaction, the claims on the library's files
// of every other worker whose liveness lock is free: a killed worker's
// files are taken over at once instead of when its lease runs out.
void ReleaseDeadWorkersClaims(nomtag_storage_db* db, long long lib,
                              const std::string& me, long long now) {
  std::vector<std::string> holders;
  // From the claimer index (only claimed rows), never from a library
  // index: SQLite's planner took files_by_tags_dirty (library_id) and
  // walked every file of the library in every claim (335 ms at 1,000,000
  // files). `+library_id` keeps the library test out of index choice, in
  // SQLite and PostgreSQL alike.
  soci::rowset<soci::row> rows =
      (db->sql.prepare << "SELECT DISTINCT write_claimed_by FROM files WHERE "
                          "write_claimed_by IS NOT NULL AND +library_id = :lib "
                          "AND write_claimed_by <> :me AND "
                          "claim_expires_at >= :now",
       soci::use(lib, "lib"), soci::use(me, "me"), soci::use(now, "now"));
  for (const auto& r : rows) holders.push_back(Str(r, 0));
  for (const auto& worker : holders) {
    if (db->backend->IsWorkerAlive(db, worker)) continue;
    std::string w = worker;
    db->sql << "UPDATE files SET write_claimed_by = NULL, write_claimed_at = "
               "NULL, claim_expires_at = NULL, claim_token = claim_token + 1 "
               "WHERE write_claimed_by = :w",
        soci::use(w);
  }
}

nomtag_status ClaimBatch(nomtag_storage_db* db, int64_t library_id,
                         const char* worker, uint32_t batch, int64_t lease_ms,
                         int64_t now_ms, const nomtag_claim_sink* sink,
                         nomtag_error* err) {
  return Guard(db, err, [&] {
    if (lease_ms < 1)
      throw Error(
          NOMTAG_ERR_INVALID_ARGUMENT,
          "a lease must last at least 1 ms, not " + std::to_string(lease_ms));
    struct Claimed {
      long long id, token, rev;
      std::string path;
    };
    std::vector<Claimed> claimed;
    std::string who = Text(worker);
    long long lib = library_id, now = now_ms, expires = now_ms + lease_ms,
              limit = batch;
    // BEGIN IMMEDIATE takes the write lock first: two processes cannot
    // pick the same rows.
    InTransaction(db, [&] {
      std::string dk = DesiredKey(db->sql, library_id);
      ReleaseDeadWorkersClaims(db, lib, who, now);
      // A rowset, not a vector `into`: SOCI 4.0's SQLite backend returns
      // no row for a bulk fetch of size 1.
      std::vector<long long> ids;
      soci::rowset<soci::row> picked =
          (db->sql.prepare << db->backend->queries().pick_for_claim,
           soci::use(lib, "lib"), soci::use(dk, "dk"), soci::use(now, "now"),
           soci::use(who, "w"), soci::use(limit, "n"));
      for (const auto& r : picked) ids.push_back(Int(r, 0));
      if (ids.empty()) return;
      // One statement for the batch, not two per file: on a server each
      // statement is a round trip (200 of them made a claim of 100 take
      // ~30 ms on PostgreSQL). The ids are the database's own integers.
      std::string list;
      for (long long picked : ids)
        list += (list.empty() ? "" : ",") + std::to_string(picked);
      soci::rowset<soci::row> taken =
          (db->sql.prepare << "UPDATE files SET write_claimed_by = :w, "
                              "write_claimed_at = :now, claim_expires_at = "
                              ":exp, claim_token = claim_token + 1 WHERE id "
                              "IN (" +
                                  list +
                                  ") RETURNING id, claim_token, tags_rev, "
                                  "path",
           soci::use(who, "w"), soci::use(now, "now"),
           soci::use(expires, "exp"));
      std::map<long long, Claimed> by_id;
      for (const auto& r : taken)
        by_id[Int(r, 0)] = Claimed{Int(r, 0), Int(r, 1), Int(r, 2), Str(r, 3)};
      // In the order picked (RETURNING promises none).
      for (long long picked : ids) {
        auto it = by_id.find(picked);
        if (it == by_id.end())
          throw Error(NOMTAG_ERR_CORRUPT,
                      "a file picked for a claim vanished inside the claim");
        claimed.push_back(std::move(it->second));
      }
    });
    for (const auto& c : claimed) {
      nomtag_claimed_file f{sizeof f, c.id, c.path.c_str(), c.token, c.rev};
      nomtag_status st = sink->claimed(sink->ctx, &f);
      if (st != NOMTAG_OK) throw Error(st, "claim sink refused");
    }
  });
}

nomtag_status PendingList(nomtag_storage_db* db, int64_t library_id,
                          const nomtag_file_sink* sink, nomtag_error* err) {
  return Guard(db, err, [&] {
    long long lib = library_id;
    std::string dk = DesiredKey(db->sql, library_id);
    soci::rowset<soci::row> rows =
        (db->sql.prepare << db->backend->queries().list_pending,
         soci::use(lib, "lib"), soci::use(dk, "dk"));
    for (const auto& r : rows) {
      std::string path = Str(r, 1);
      std::string mode = Str(r, 3);
      nomtag_file_info info{sizeof info,
                            Int(r, 0),
                            path.c_str(),
                            0,
                            0,
                            nullptr,
                            static_cast<int32_t>(Int(r, 2)),
                            mode.empty() ? nullptr : mode.c_str(),
                            0,
                            0,
                            0,
                            nullptr};
      nomtag_status st = sink->file(sink->ctx, &info);
      if (st != NOMTAG_OK) throw Error(st, "file sink refused");
    }
  });
}

// Moves the file's analyses made at exactly the stamp the write found
// (before) to the one it left (after). Analysis writes to the database
// only and a write changes only the nom namespace, so the audio analysed
// is the audio the file still holds; without this, every file nomtag
// writes would be analysed again (seconds per track). An analysis stored
// at any other stamp was of a file someone else changed since: left due.
struct CarryStatement {
  explicit CarryStatement(soci::session& sql)
      : st((sql.prepare << "UPDATE analyses SET size = :size, mtime_ns = "
                           ":mtime WHERE file_id = :id AND size = :bsize AND "
                           "mtime_ns = :bmtime",
            soci::use(size, "size"), soci::use(mtime, "mtime"),
            soci::use(id, "id"), soci::use(before_size, "bsize"),
            soci::use(before_mtime, "bmtime"))) {}
  long long size = 0, mtime = 0, id = 0, before_size = 0, before_mtime = 0;
  soci::statement st;
};

void CarryAnalyses(nomtag_storage_db* db, long long id, long long before_size,
                   long long before_mtime, long long size, long long mtime) {
  CarryStatement& c = PreparedOnce<CarryStatement>(db, "");
  c.size = size;
  c.mtime = mtime;
  c.id = id;
  c.before_size = before_size;
  c.before_mtime = before_mtime;
  c.st.execute(true);
}

// The record of one write; see RecordWritten.
struct RecordStatement {
  explicit RecordStatement(soci::session& sql)
      : st((sql.prepare
                << "UPDATE files SET last_written_mode = :m, "
                   "last_written_calibration_hash = :h, last_written_at = "
                   ":now, written_key = :k, written_tags_rev = :rev, "
                   "has_nomarr_namespace = :ns, write_claimed_by = NULL, "
                   "write_claimed_at = NULL, claim_expires_at = NULL, "
                   "last_error = NULL, written_digest = :dg, "
                   "size = CASE WHEN :known = 1 THEN :size ELSE size END, "
                   "mtime_ns = CASE WHEN :known = 1 THEN :mtime ELSE mtime_ns "
                   "END, dev = CASE WHEN :known = 1 THEN :dev ELSE dev END, "
                   "inode = CASE WHEN :known = 1 THEN :inode ELSE inode END "
                   "WHERE id = :id AND claim_token = :tok",
            soci::use(mode, "m"), soci::use(hash, hi, "h"),
            soci::use(now, "now"), soci::use(key, "k"), soci::use(rev, "rev"),
            soci::use(ns, "ns"), soci::use(digest, di, "dg"),
            soci::use(known, "known"), soci::use(size, "size"),
            soci::use(mtime, "mtime"), soci::use(dev, "dev"),
            soci::use(inode, "inode"), soci::use(id, "id"),
            soci::use(tok, "tok"))) {}
  std::string mode, hash, key, digest;
  soci::indicator hi = soci::i_ok, di = soci::i_ok;
  long long now = 0, rev = 0, size = 0, mtime = 0, dev = 0, inode = 0, id = 0,
            tok = 0;
  int ns = 0, known = 0;
  soci::statement st;
};

// Records a write, fenced by the claim token. With what the write left on
// disk (info->size or mtime_ns set), the next scan takes the file for
// unchanged instead of re-reading nomtag's own write; with what it found
// (since ABI 1.8), the analyses of those bytes stay current. Runs in the
// caller's transaction.
void RecordWritten(nomtag_storage_db* db, const nomtag_written_info* info,
                   int32_t* out_recorded) {
  std::string mode = Text(info->mode);
  CheckChoice(mode, "write mode", {"none", "minimal", "full"});
  // Once per file written: prepared once.
  RecordStatement& r = PreparedOnce<RecordStatement>(db, "");
  r.mode = mode;
  r.hash = Text(info->calibration_hash);
  r.key = WrittenKey(mode, r.hash);
  r.hi = mode == "none" || r.hash.empty() ? soci::i_null : soci::i_ok;
  r.id = info->file_id;
  r.tok = info->claim_token;
  r.rev = info->tags_rev;
  r.now = info->now_ms;
  r.size = static_cast<long long>(info->size);
  r.mtime = info->mtime_ns;
  r.dev = static_cast<long long>(info->dev);
  r.inode = static_cast<long long>(info->inode);
  r.known = info->size != 0 || info->mtime_ns != 0 ? 1 : 0;
  r.digest = Text(info->namespace_digest);
  r.di = r.digest.empty() ? soci::i_null : soci::i_ok;
  r.ns = info->has_namespace ? 1 : 0;
  r.st.execute(true);
  *out_recorded = r.st.get_affected_rows() == 1 ? 1 : 0;
  const long long id = r.id;
  if (*out_recorded) {
    // A host before ABI 1.8 sends a shorter struct: nothing to carry.
    if (r.known &&
        NOMTAG_HAS_FIELD(info, nomtag_written_info, before_mtime_ns) &&
        (info->before_size != 0 || info->before_mtime_ns != 0))
      CarryAnalyses(db, id, static_cast<long long>(info->before_size),
                    info->before_mtime_ns, r.size, r.mtime);
    return;
  }
  // Another worker took the file over while this one wrote it: which
  // write landed last is unknown. Mark the file as needing a write again,
  // and fence off the new owner's token too, so that whoever records last
  // cannot call a stale file in sync.
  db->sql << "UPDATE files SET written_tags_rev = -1, claim_token = "
             "claim_token + 1, write_claimed_by = NULL, write_claimed_at = "
             "NULL, claim_expires_at = NULL WHERE id = :id",
      soci::use(id);
}

nomtag_status SetWritten(nomtag_storage_db* db, int64_t file_id, int64_t token,
                         const char* mode_c, const char* hash_c,
                         int64_t tags_rev, int32_t has_ns, int64_t now_ms,
                         int32_t* out_recorded, nomtag_error* err) {
  return Guard(db, err, [&] {
    nomtag_written_info info{sizeof info, file_id, token,   mode_c, hash_c,
                             tags_rev,    has_ns,  now_ms,  0,      0,
                             0,           0,       nullptr, 0,      0};
    RecordWritten(db, &info, out_recorded);
  });
}

nomtag_status SetWrittenV2(nomtag_storage_db* db,
                           const nomtag_written_info* info,
                           int32_t* out_recorded, nomtag_error* err) {
  return Guard(db, err, [&] {
    // The record and the analyses it carries forward commit together: in
    // the host's transaction when it opened one (a group's records),
    // else in one of their own.
    if (db->in_transaction)
      RecordWritten(db, info, out_recorded);
    else
      InTransaction(db, [&] { RecordWritten(db, info, out_recorded); });
  });
}

nomtag_status ReleaseClaim(nomtag_storage_db* db, int64_t file_id,
                           int64_t token, const char* error,
                           nomtag_error* err) {
  return Guard(db, err, [&] {
    std::string e = Text(error);
    soci::indicator ei = error ? soci::i_ok : soci::i_null;
    long long id = file_id, tok = token;
    db->sql << "UPDATE files SET write_claimed_by = NULL, write_claimed_at = "
               "NULL, claim_expires_at = NULL, last_error = :e "
               "WHERE id = :id AND claim_token = :tok",
        soci::use(e, ei, "e"), soci::use(id, "id"), soci::use(tok, "tok");
  });
}

nomtag_status LibraryStatus(nomtag_storage_db* db, int64_t library_id,
                            int64_t lease_ms, int64_t now_ms,
                            nomtag_library_status* out, nomtag_error* err) {
  return Guard(db, err, [&] {
    (void)lease_ms;  // since ABI 1.2 each claim carries its expiry
    long long lib = library_id, now = now_ms;
    std::string dk = DesiredKey(db->sql, library_id);
    long long files = 0, missing = 0, pending = 0, busy = 0, failed = 0;
    db->sql << "SELECT COUNT(*) FROM files WHERE library_id = :lib AND "
               "missing = 0",
        soci::use(lib), soci::into(files);
    db->sql << "SELECT COUNT(*) FROM files WHERE library_id = :lib AND "
               "missing = 1",
        soci::use(lib), soci::into(missing);
    pending = PendingCount(db, library_id);
    db->sql << db->backend->queries().count_in_progress, soci::use(lib, "lib"),
        soci::use(dk, "dk"), soci::use(now, "now"), soci::into(busy);
    db->sql << db->backend->queries().count_failed, soci::use(lib, "lib"),
        soci::use(dk, "dk"), soci::into(failed);
    out->files = files;
    out->missing = missing;
    out->pending = pending;
    out->in_progress = busy;
    out->failed = failed;
    if (NOMTAG_HAS_FIELD(out, nomtag_library_status, folders)) {
      // A path's folder is what rtrim leaves when told to strip every
      // character the path has but '/': all up to its last slash.
      long long folders = 0;
      db->sql << "SELECT COUNT(DISTINCT rtrim(path, replace(path, '/', "
                 "''))) FROM files WHERE library_id = :lib AND missing = 0",
          soci::use(lib), soci::into(folders);
      out->folders = folders;
    }
  });
}

nomtag_status CountPending(nomtag_storage_db* db, int64_t library_id,
                           int64_t* out, nomtag_error* err) {
  return Guard(db, err, [&] { *out = PendingCount(db, library_id); });
}

nomtag_status FailureList(nomtag_storage_db* db, int64_t library_id,
                          const nomtag_failure_sink* sink, nomtag_error* err) {
  return Guard(db, err, [&] {
    long long lib = library_id;
    std::string dk = DesiredKey(db->sql, library_id);
    soci::rowset<soci::row> rows =
        (db->sql.prepare << db->backend->queries().list_failures,
         soci::use(lib, "lib"), soci::use(dk, "dk"));
    for (const auto& r : rows) {
      std::string path = Str(r, 1), e = Str(r, 2);
      nomtag_status st = sink->failure(sink->ctx, path.c_str(), e.c_str());
      if (st != NOMTAG_OK) throw Error(st, "failure sink refused");
    }
  });
}

// --- workers (since ABI 1.2) ------------------------------------------------

nomtag_status WorkerStart(nomtag_storage_db* db, char* buf, size_t capacity,
                          nomtag_error* err) {
  return Guard(db, err, [&] {
    if (db->read_only)
      throw Error(NOMTAG_ERR_INVALID_ARGUMENT,
                  "a worker needs the database opened for writing");
    if (db->worker_id.empty()) db->worker_id = db->backend->StartWorker(db);
    const std::string& id = db->worker_id;
    if (id.size() + 1 > capacity)
      throw Error(NOMTAG_ERR_INVALID_ARGUMENT, "worker id buffer too small");
    std::copy(id.begin(), id.end(), buf);
    buf[id.size()] = '\0';
  });
}

struct ClaimCheckStatement {
  explicit ClaimCheckStatement(soci::session& sql)
      : st((sql.prepare << "UPDATE files SET claim_expires_at = :exp "
                           "WHERE id = :id AND claim_token = :tok AND "
                           "write_claimed_by IS NOT NULL",
            soci::use(exp, "exp"), soci::use(id, "id"),
            soci::use(tok, "tok"))) {}
  long long exp = 0, id = 0, tok = 0;
  soci::statement st;
};

nomtag_status ClaimCheck(nomtag_storage_db* db, int64_t file_id, int64_t token,
                         int64_t lease_ms, int64_t now_ms, int32_t* out_held,
                         nomtag_error* err) {
  return Guard(db, err, [&] {
    // The token is the fence: any take-over changes it. A claim whose
    // lease ran out but that nobody took is still this worker's, and the
    // renewal makes it safe again for a whole lease.
    // Once per file, just before its first byte: prepared once.
    ClaimCheckStatement& c = PreparedOnce<ClaimCheckStatement>(db, "");
    c.id = file_id;
    c.tok = token;
    c.exp = now_ms + lease_ms;
    c.st.execute(true);
    *out_held = c.st.get_affected_rows() == 1 ? 1 : 0;
  });
}

nomtag_status ClaimsRenew(nomtag_storage_db* db, const char* worker,
                          int64_t lease_ms, int64_t now_ms,
                          int64_t* out_renewed, nomtag_error* err) {
  return Guard(db, err, [&] {
    std::string w = Text(worker);
    long long exp = now_ms + lease_ms;
    soci::statement st =
        (db->sql.prepare << "UPDATE files SET claim_expires_at = :exp "
                            "WHERE write_claimed_by = :w",
         soci::use(exp, "exp"), soci::use(w, "w"));
    st.execute(true);
    *out_renewed = st.get_affected_rows();
  });
}

nomtag_status ClaimHolders(nomtag_storage_db* db, int64_t library_id,
                           const nomtag_claim_holder_sink* sink,
                           nomtag_error* err) {
  return Guard(db, err, [&] {
    long long lib = library_id;
    std::string dk = DesiredKey(db->sql, library_id);
    // Typed intos: aggregates carry no declared type for a row to read.
    std::string worker;
    long long files = 0, expires = 0;
    soci::statement st =
        (db->sql.prepare << db->backend->queries().list_claim_holders,
         soci::use(lib, "lib"), soci::use(dk, "dk"), soci::into(worker),
         soci::into(files), soci::into(expires));
    st.execute();
    while (st.fetch()) {
      nomtag_claim_holder h{sizeof h, worker.c_str(), files, expires,
                            db->backend->IsWorkerAlive(db, worker) ? 1 : 0};
      nomtag_status s = sink->holder(sink->ctx, &h);
      if (s != NOMTAG_OK) throw Error(s, "claim holder sink refused");
    }
  });
}

}  // namespace

nomtag_storage StorageTable(decltype(nomtag_storage::open) open,
                            decltype(nomtag_storage::open_v2) open_v2,
                            uint32_t struct_size) {
  return {
      struct_size,
      open,
      Close,
      Location,
      Begin,
      Commit,
      Rollback,
      LibraryAdd,
      LibraryList,
      LibraryUpdate,
      FileList,
      FileRecord,
      FileMarkMissing,
      TagsReplace,
      TagsGet,
      CalibrationSet,
      CalibrationGet,
      ClaimBatch,
      PendingList,
      SetWritten,
      ReleaseClaim,
      LibraryStatus,
      FailureList,
      CountPending,
      open_v2,
      WorkerStart,
      ClaimCheck,
      ClaimsRenew,
      ClaimHolders,
      FileMove,
      SetWrittenV2,
      AnalysisClaimBatch,
      AnalysisDueList,
      AnalysisRecord,
      AnalysisRelease,
      AnalysisGet,
      AnalysisStatus,
      AnalysisFailureList,
      CalibrationDefinition,
      LibraryRemove,
      RowsExport,
      RowsImportBegin,
      RowsImport,
  };
}

std::string DatabaseSetting(const char* settings, size_t len) {
  if (len == 0) return "";
  YAML::Node node;
  try {
    node = YAML::Load(std::string(settings, len));
  } catch (const YAML::Exception& e) {
    throw Error(NOMTAG_ERR_SETTINGS, std::string("bad settings: ") + e.what());
  }
  return node["database"] ? node["database"].as<std::string>() : "";
}

}  // namespace nomtag::sqlstore
