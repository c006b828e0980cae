#include "analysis_store.h"

#include <cstring>
#include <nomtag/cpp/error.hpp>
#include <string>
#include <vector>

#include "prepared_statements.h"
#include "queries.h"
#include "soci_rows.h"
#include "storage_db.h"

namespace nomtag::sqlstore {
namespace {

using sdk::Error;

double Real(const soci::row& r, std::size_t i, double if_null) {
  if (r.get_indicator(i) == soci::i_null) return if_null;
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_double:
      return r.get<double>(i);
    case soci::dt_integer:
      return r.get<int>(i);
    case soci::dt_long_long:
      return static_cast<double>(r.get<long long>(i));
    default:
      throw Error(NOMTAG_ERR_CORRUPT, "column " +
                                          r.get_properties(i).get_name() +
                                          " holds text where a number belongs");
  }
}

// The key's fields, checked: a result without them could never be current.
struct Key {
  std::string id, version, digest;
};

Key CheckKey(const nomtag_analysis_key* key) {
  if (key == nullptr || key->plugin_id == nullptr || !*key->plugin_id)
    throw Error(NOMTAG_ERR_INVALID_ARGUMENT, "analysis key without plugin id");
  return {key->plugin_id, Text(key->plugin_version),
          Text(key->settings_digest)};
}

// Files of :lib due for :pid — no result, another version or settings, a
// file changed since (size or mtime), or analysed before :force. Reads the
// library's files once; an index on analyses' primary key answers the join.
#define NOMTAG_DUE_FROM                                         \
  " FROM files f LEFT JOIN analyses a ON a.file_id = f.id AND " \
  "a.plugin_id = :pid WHERE f.library_id = :lib AND f.missing = 0 AND "
#define NOMTAG_DUE                                                       \
  "(a.analysed_at IS NULL OR a.plugin_version IS DISTINCT FROM :ver OR " \
  "a.settings_digest IS DISTINCT FROM :dig OR a.size IS DISTINCT FROM "  \
  "f.size OR a.mtime_ns IS DISTINCT FROM f.mtime_ns OR "                 \
  "a.analysed_at < :force)"
#define NOMTAG_ANALYSIS_UNCLAIMED \
  " AND (a.claimed_at IS NULL OR a.claimed_at < :cutoff)"

// Takes back, in the open transaction, the unexpired analysis claims on
// the library's files of every other worker whose liveness lock is free:
// a killed `analyze` leaves nothing for a rerun to wait on.
void ReleaseDeadAnalysers(nomtag_storage_db* db, const std::string& plugin,
                          long long lib, const std::string& me,
                          long long cutoff) {
  std::vector<std::string> holders;
  soci::rowset<soci::row> rows =
      (db->sql.prepare << kAnalysisClaimHolders, soci::use(lib, "lib"),
       soci::use(plugin, "pid"), soci::use(me, "me"),
       soci::use(cutoff, "cutoff"));
  for (const auto& r : rows) holders.push_back(Str(r, 0));
  for (const auto& worker : holders) {
    if (db->backend->IsWorkerAlive(db, worker)) continue;
    db->sql << kFreeAnalysisClaims, soci::use(worker, "w"),
        soci::use(plugin, "pid");
  }
}

}  // namespace

nomtag_status AnalysisClaimBatch(nomtag_storage_db* db, int64_t library_id,
                                 const nomtag_analysis_key* key,
                                 int64_t force_since_ms, const char* worker,
                                 uint32_t batch, int64_t lease_ms,
                                 int64_t now_ms, const nomtag_claim_sink* sink,
                                 nomtag_error* err) {
  return Guard(db, err, [&] {
    Key k = CheckKey(key);
    struct Claimed {
      long long id, token;
      std::string path;
    };
    std::vector<Claimed> claimed;
    std::string who = Text(worker);
    long long lib = library_id, now = now_ms, cutoff = now_ms - lease_ms,
              limit = batch, force = force_since_ms;
    // BEGIN IMMEDIATE takes the write lock first: two processes cannot
    // pick the same files.
    InTransaction(db, [&] {
      ReleaseDeadAnalysers(db, k.id, lib, who, cutoff);
      std::vector<std::pair<long long, std::string>> picked;
      soci::rowset<soci::row> rows =
          (db->sql.prepare << std::string(
                                  "SELECT f.id, f.path" NOMTAG_DUE_FROM
                                      NOMTAG_DUE NOMTAG_ANALYSIS_UNCLAIMED
                                  " ORDER BY f.id LIMIT :n") +
                                  (db->backend->dialect().row_locks
                                       ? " FOR UPDATE OF f SKIP LOCKED"
                                       : ""),
           soci::use(k.id, "pid"), soci::use(lib, "lib"),
           soci::use(k.version, "ver"), soci::use(k.digest, "dig"),
           soci::use(force, "force"), soci::use(cutoff, "cutoff"),
           soci::use(limit, "n"));
      for (const auto& r : rows) picked.emplace_back(Int(r, 0), Str(r, 1));
      for (auto& [id, path] : picked) {
        db->sql << "INSERT INTO analyses (file_id, plugin_id, claimed_by, "
                   "claimed_at, claim_token) VALUES (:id, :pid, :w, :now, 1) "
                   "ON CONFLICT (file_id, plugin_id) DO UPDATE SET "
                   "claimed_by = excluded.claimed_by, claimed_at = "
                   "excluded.claimed_at, claim_token = analyses.claim_token + "
                   "1",
            soci::use(id, "id"), soci::use(k.id, "pid"), soci::use(who, "w"),
            soci::use(now, "now");
        long long token = 0;
        db->sql << "SELECT claim_token FROM analyses WHERE file_id = :id AND "
                   "plugin_id = :pid",
            soci::use(id, "id"), soci::use(k.id, "pid"), soci::into(token);
        claimed.push_back({id, token, path});
      }
    });
    for (const auto& c : claimed) {
      nomtag_claimed_file f{sizeof f, c.id, c.path.c_str(), c.token, 0};
      nomtag_status st = sink->claimed(sink->ctx, &f);
      if (st != NOMTAG_OK) throw Error(st, "claim sink refused");
    }
  });
}

nomtag_status AnalysisDueList(nomtag_storage_db* db, int64_t library_id,
                              const nomtag_analysis_key* key,
                              int64_t force_since_ms,
                              const nomtag_file_sink* sink, nomtag_error* err) {
  return Guard(
      db, err, [&] {
        Key k = CheckKey(key);
        long long lib = library_id, force = force_since_ms;
        soci::rowset<soci::row> rows =
            (db->sql.prepare
                 << "SELECT f.id, f.path, f.size, f.mtime_ns" NOMTAG_DUE_FROM
                        NOMTAG_DUE " ORDER BY f.path",
             soci::use(k.id, "pid"), soci::use(lib, "lib"),
             soci::use(k.version, "ver"), soci::use(k.digest, "dig"),
             soci::use(force, "force"));
        for (const auto& r : rows) {
          std::string path = Str(r, 1);
          nomtag_file_info info{sizeof info,
                                Int(r, 0),
                                path.c_str(),
                                static_cast<uint64_t>(Int(r, 2)),
                                Int(r, 3),
                                nullptr,
                                0,
                                nullptr,
                                0,
                                0,
                                0,
                                nullptr};
          nomtag_status st = sink->file(sink->ctx, &info);
          if (st != NOMTAG_OK) throw Error(st, "file sink refused");
        }
      });
}

nomtag_status AnalysisRecord(nomtag_storage_db* db, int64_t file_id,
                             int64_t claim_token,
                             const nomtag_analysis_key* key,
                             const nomtag_analysis_result* result,
                             int64_t now_ms, int32_t* out_recorded,
                             nomtag_error* err) {
  return Guard(db, err, [&] {
    Key k = CheckKey(key);
    if (result == nullptr)
      throw Error(NOMTAG_ERR_INVALID_ARGUMENT, "no analysis result");
    long long id = file_id, tok = claim_token, now = now_ms;
    std::string error = Text(result->error);
    soci::indicator ei = result->error ? soci::i_ok : soci::i_null;
    double seconds = result->audio_seconds;
    *out_recorded = 0;
    InTransaction(db, [&] {
      soci::statement up =
          (db->sql.prepare
               << "UPDATE analyses SET plugin_version = :ver, "
                  "settings_digest = :dig, analysed_at = :now, error = :e, "
                  "audio_seconds = :s, size = (SELECT size FROM files WHERE "
                  "id = :id), mtime_ns = (SELECT mtime_ns FROM files WHERE id "
                  "= :id), claimed_by = NULL, claimed_at = NULL "
                  "WHERE file_id = :id AND plugin_id = :pid AND claim_token "
                  "= :tok",
           soci::use(k.version, "ver"), soci::use(k.digest, "dig"),
           soci::use(now, "now"), soci::use(error, ei, "e"),
           soci::use(seconds, "s"), soci::use(id, "id"), soci::use(k.id, "pid"),
           soci::use(tok, "tok"));
      up.execute(true);
      if (up.get_affected_rows() != 1) return;  // another worker owns it
      *out_recorded = 1;
      db->sql << "DELETE FROM analysis_heads WHERE file_id = :id AND "
                 "plugin_id = :pid",
          soci::use(id, "id"), soci::use(k.id, "pid");
      db->sql << "DELETE FROM analysis_descriptors WHERE file_id = :id AND "
                 "plugin_id = :pid",
          soci::use(id, "id"), soci::use(k.id, "pid");
      db->sql << "DELETE FROM analysis_embeddings WHERE file_id = :id AND "
                 "plugin_id = :pid",
          soci::use(id, "id"), soci::use(k.id, "pid");
      for (size_t i = 0; i < result->head_count; ++i) {
        const nomtag_head_output& h = result->heads[i];
        std::string model = Text(h.model_id), label = Text(h.label),
                    opposite = Text(h.opposite);
        double score = h.score, spread = h.spread;
        soci::indicator si = spread < 0 ? soci::i_null : soci::i_ok;
        soci::indicator oi = h.opposite ? soci::i_ok : soci::i_null;
        db->sql << "INSERT INTO analysis_heads (file_id, plugin_id, "
                   "model_id, label, score, spread, opposite) VALUES (:id, "
                   ":pid, :m, :l, :v, :sd, :o) ON CONFLICT (file_id, "
                   "plugin_id, model_id, label) DO UPDATE SET score = "
                   "excluded.score, spread = excluded.spread, opposite = "
                   "excluded.opposite",
            soci::use(id, "id"), soci::use(k.id, "pid"), soci::use(model, "m"),
            soci::use(label, "l"), soci::use(score, "v"),
            soci::use(spread, si, "sd"), soci::use(opposite, oi, "o");
      }
      for (size_t i = 0; i < result->descriptor_count; ++i) {
        std::string name = Text(result->descriptors[i].name);
        double value = result->descriptors[i].value;
        db->sql << "INSERT INTO analysis_descriptors (file_id, plugin_id, "
                   "name, value) VALUES (:id, :pid, :n, :v) ON CONFLICT "
                   "(file_id, plugin_id, name) DO UPDATE SET value = "
                   "excluded.value",
            soci::use(id, "id"), soci::use(k.id, "pid"), soci::use(name, "n"),
            soci::use(value, "v");
      }
      if (result->embedding_model && result->embedding_count > 0) {
        // Little-endian float32 as stored in memory on every target we build.
        std::string blob(reinterpret_cast<const char*>(result->embedding),
                         result->embedding_count * sizeof(float));
        db->backend->StoreEmbedding(db, id, k.id, result->embedding_model,
                                    blob);
      }
      // The outputs feed the file's desired tags: the next reconcile
      // projects them.
      db->sql << "UPDATE files SET tags_rev = tags_rev + 1 WHERE id = :id",
          soci::use(id);
    });
  });
}

nomtag_status AnalysisRelease(nomtag_storage_db* db, int64_t file_id,
                              int64_t claim_token,
                              const nomtag_analysis_key* key,
                              nomtag_error* err) {
  return Guard(db, err, [&] {
    Key k = CheckKey(key);
    long long id = file_id, tok = claim_token;
    db->sql << "UPDATE analyses SET claimed_by = NULL, claimed_at = NULL "
               "WHERE file_id = :id AND plugin_id = :pid AND claim_token = "
               ":tok",
        soci::use(id, "id"), soci::use(k.id, "pid"), soci::use(tok, "tok");
  });
}

nomtag_status AnalysisGet(nomtag_storage_db* db, int64_t library_id,
                          int64_t file_id, const nomtag_analysis_sink* sink,
                          nomtag_error* err) {
  return Guard(db, err, [&] {
    long long lib = library_id, id = file_id;
    // One file; or the present files of one library (or of all).
    const char* where =
        file_id > 0 ? " WHERE x.file_id = :id"
        : library_id > 0
            ? " JOIN files f ON f.id = x.file_id WHERE f.missing = 0 AND "
              "f.library_id = :lib"
            : " JOIN files f ON f.id = x.file_id WHERE f.missing = 0";
    if (sink->head) {
      std::string q = std::string(
                          "SELECT x.plugin_id, x.model_id, x.label, x.score, "
                          "x.spread, x.opposite FROM analysis_heads x") +
                      where +
                      " ORDER BY x.file_id, x.plugin_id, x.model_id, x.label";
      auto head = [&](const soci::row& r) {
        std::string plugin = Str(r, 0), model = Str(r, 1), label = Str(r, 2);
        bool tier = r.get_indicator(5) != soci::i_null;
        std::string opposite = Str(r, 5);
        nomtag_head_output h{sizeof h,       model.c_str(),
                             label.c_str(),  Real(r, 3, 0),
                             Real(r, 4, -1), tier ? opposite.c_str() : nullptr};
        nomtag_status st = sink->head(sink->ctx, plugin.c_str(), &h);
        if (st != NOMTAG_OK) throw Error(st, "analysis sink refused");
      };
      auto run = [&](soci::rowset<soci::row>&& rows) {
        for (const auto& r : rows) head(r);
      };
      if (file_id > 0)  // once per file of a reconcile: prepared once
        ForEachRowById(db, q, id, head);
      else if (library_id > 0)
        run((db->sql.prepare << q, soci::use(lib, "lib")));
      else
        run((db->sql.prepare << q));
    }
    if (sink->descriptor) {
      std::string q = std::string(
                          "SELECT x.plugin_id, x.name, x.value FROM "
                          "analysis_descriptors x") +
                      where + " ORDER BY x.file_id, x.plugin_id, x.name";
      auto descriptor = [&](const soci::row& r) {
        std::string plugin = Str(r, 0), name = Str(r, 1);
        nomtag_descriptor_value v{sizeof v, name.c_str(), Real(r, 2, 0)};
        nomtag_status st = sink->descriptor(sink->ctx, plugin.c_str(), &v);
        if (st != NOMTAG_OK) throw Error(st, "analysis sink refused");
      };
      auto run = [&](soci::rowset<soci::row>&& rows) {
        for (const auto& r : rows) descriptor(r);
      };
      if (file_id > 0)  // once per file of a reconcile: prepared once
        ForEachRowById(db, q, id, descriptor);
      else if (library_id > 0)
        run((db->sql.prepare << q, soci::use(lib, "lib")));
      else
        run((db->sql.prepare << q));
    }
  });
}

nomtag_status AnalysisStatus(nomtag_storage_db* db, int64_t library_id,
                             const nomtag_analysis_key* key, int64_t lease_ms,
                             int64_t now_ms, nomtag_analysis_status* out,
                             nomtag_error* err) {
  return Guard(db, err, [&] {
    Key k = CheckKey(key);
    long long lib = library_id, cutoff = now_ms - lease_ms, force = 0;
    long long present = 0, due = 0, busy = 0, failed = 0;
    db->sql << "SELECT COUNT(*) FROM files WHERE library_id = :lib AND "
               "missing = 0",
        soci::use(lib), soci::into(present);
    db->sql << "SELECT COUNT(*)" NOMTAG_DUE_FROM NOMTAG_DUE,
        soci::use(k.id, "pid"), soci::use(lib, "lib"),
        soci::use(k.version, "ver"), soci::use(k.digest, "dig"),
        soci::use(force, "force"), soci::into(due);
    db->sql << "SELECT COUNT(*)" NOMTAG_DUE_FROM NOMTAG_DUE
               " AND a.claimed_at >= :cutoff",
        soci::use(k.id, "pid"), soci::use(lib, "lib"),
        soci::use(k.version, "ver"), soci::use(k.digest, "dig"),
        soci::use(force, "force"), soci::use(cutoff, "cutoff"),
        soci::into(busy);
    db->sql << "SELECT COUNT(*)" NOMTAG_DUE_FROM "NOT " NOMTAG_DUE
               " AND a.error IS NOT NULL",
        soci::use(k.id, "pid"), soci::use(lib, "lib"),
        soci::use(k.version, "ver"), soci::use(k.digest, "dig"),
        soci::use(force, "force"), soci::into(failed);
    *out = {sizeof *out, present - due, due, failed, busy};
  });
}

nomtag_status AnalysisFailureList(nomtag_storage_db* db, int64_t library_id,
                                  const nomtag_analysis_key* key,
                                  const nomtag_failure_sink* sink,
                                  nomtag_error* err) {
  return Guard(db, err, [&] {
    Key k = CheckKey(key);
    long long lib = library_id, force = 0;
    soci::rowset<soci::row> rows =
        (db->sql.prepare << "SELECT f.path, a.error" NOMTAG_DUE_FROM
                            "NOT " NOMTAG_DUE
                            " AND a.error IS NOT NULL ORDER BY f.path",
         soci::use(k.id, "pid"), soci::use(lib, "lib"),
         soci::use(k.version, "ver"), soci::use(k.digest, "dig"),
         soci::use(force, "force"));
    for (const auto& r : rows) {
      std::string path = Str(r, 0), e = Str(r, 1);
      nomtag_status st = sink->failure(sink->ctx, path.c_str(), e.c_str());
      if (st != NOMTAG_OK) throw Error(st, "failure sink refused");
    }
  });
}

nomtag_status CalibrationDefinition(nomtag_storage_db* db,
                                    const nomtag_text_sink* sink,
                                    nomtag_error* err) {
  return Guard(db, err, [&] {
    std::string def;
    soci::indicator ind = soci::i_null;
    db->sql << "SELECT definition FROM calibration WHERE id = 1 AND hash IS "
               "NOT NULL",
        soci::into(def, ind);
    if (!db->sql.got_data() || ind != soci::i_ok) def.clear();
    nomtag_status st = sink->text(sink->ctx, def.data(), def.size());
    if (st != NOMTAG_OK) throw Error(st, "text sink refused");
  });
}

}  // namespace nomtag::sqlstore
