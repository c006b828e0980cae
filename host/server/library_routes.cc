// Libraries: list, one, create, update, the write-mode route of SPEC
// section 7, per-library counts with the failure list, and one file's
// `nom` tags as on disk.
// Deleting a library forgets its rows only (never a file), refused with 409
// while a job of this server or a live run elsewhere works on it.
#include <limits.h>
#include <stdlib.h>

#include "analysis/analyzer.h"
#include "report/json_text.h"
#include "report/library_json.h"
#include "scan/library_roots.h"
#include "server/api.h"
#include "server/http_json.h"
#include "server/inside_root.h"
#include "write/safe_write.h"
#include "write/safe_write_projector.h"

namespace nomtag::server {

Result<std::unique_ptr<StorageDatabase>> Api::OpenJobDatabase() const {
  auto opened = StorageDatabase::Open(db->plugin(), db->location());
  if (opened.ok()) (*opened)->SetLocalRoots(db->local_roots());
  return opened;
}

Result<Library> Api::LibraryById(int64_t id) const {
  auto libs = db->Libraries();
  if (!libs.ok()) return libs.status();
  for (const auto& lib : *libs)
    if (lib.id == id) return lib;
  return Status::NotFound("Library not found");
}

bool LibraryFromPath(const Api& api, const httplib::Request& req,
                     httplib::Response& res, Library* out) {
  int64_t id = 0;
  if (req.matches.size() < 2 || !ParseId(req.matches[1].str(), &id)) {
    SendError(res, 404, "Library not found");
    return false;
  }
  auto lib = api.LibraryById(id);
  if (!lib.ok()) {
    SendStatus(res, lib.status());
    return false;
  }
  *out = *lib;
  return true;
}

namespace {

// The library with its counts and, when failures, why each file failed.
Result<nlohmann::json> LibraryWithCounts(Api& api, const Library& lib,
                                         bool with_failures) {
  auto st = api.db->StatusOf(lib.id, api.lease_ms);
  if (!st.ok()) return st.status();
  nlohmann::json out = LibraryJson(lib);
  int64_t hardlinked = 0;
  for (const auto& failure : st->failures)
    hardlinked += HeldByHardLinks(failure.second);
  out["counts"] = {
      {"files", st->files},     {"missing", st->missing},
      {"pending", st->pending}, {"in_progress", st->in_progress},
      {"failed", st->failed},   {"held_by_hard_links", hardlinked}};
  // Left out, not shown as 0, when the storage plugin predates ABI 1.5.
  if (st->folders >= 0) out["counts"]["folders"] = st->folders;
  // Analysis per inference plugin; the counts show the first one's (the
  // order of plugins.yaml), as a file is analysed per plugin.
  nlohmann::json analysis = nlohmann::json::array();
  if (api.db->SupportsAnalysis()) {
    for (const auto& plugin : api.registry->inferences()) {
      auto counts =
          api.db->AnalysisStatusOf(lib.id, KeyOf(plugin), api.lease_ms);
      if (!counts.ok()) return counts.status();
      nlohmann::json one{{"plugin", plugin.id},
                         {"analysed", counts->analysed},
                         {"due", counts->due},
                         {"failed", counts->failed},
                         {"in_progress", counts->in_progress}};
      if (with_failures) one["failures"] = FailuresJson(counts->failures);
      if (analysis.empty()) {
        out["counts"]["analysed"] = counts->analysed;
        out["counts"]["analysis_due"] = counts->due;
        out["counts"]["analysis_failed"] = counts->failed;
      }
      analysis.push_back(one);
    }
  }
  out["analysis"] = analysis;
  if (with_failures) out["failures"] = FailuresJson(st->failures);
  nlohmann::json jobs = nlohmann::json::array();
  for (const char* kind : kLibraryJobKinds)
    if (auto job = api.jobs.Running(kind, lib.id)) jobs.push_back(ToJson(*job));
  out["running_jobs"] = jobs;
  auto last = api.jobs.LastFinished(lib.id);
  out["last_job"] = last ? ToJson(*last) : nlohmann::json(nullptr);
  return out;
}

// The library options shared by create and update; fields absent are
// left as they are.
Status ApplyOptions(const nlohmann::json& body, Library* lib) {
  std::string mode, strategy, hardlinks;
  if (Status s = ReadField(body, "file_write_mode", &mode); !s.ok()) return s;
  if (Status s = ReadField(body, "keep_mtime", &lib->keep_mtime); !s.ok())
    return s;
  if (Status s = ReadField(body, "write_strategy", &strategy); !s.ok())
    return s;
  if (Status s = ReadField(body, "hardlinks", &hardlinks); !s.ok()) return s;
  if (body.contains("file_write_mode")) {
    auto m = ParseWriteMode(mode);
    if (!m.ok()) return m.status();
    lib->mode = *m;
  }
  if (body.contains("write_strategy")) {
    if (strategy != "auto" && strategy != "copy")
      return Status::InvalidArgument("'write_strategy' is auto or copy");
    lib->copy_only = strategy == "copy";
  }
  if (body.contains("hardlinks")) {
    if (hardlinks != "keep" && hardlinks != "break")
      return Status::InvalidArgument("'hardlinks' is keep or break");
    lib->break_hardlinks = hardlinks == "break";
  }
  return Status::OK();
}

Status CheckName(const std::string& name) {
  if (name.empty() || name.size() > 128)
    return Status::InvalidArgument("'name' must be 1 to 128 characters");
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7F)
      return Status::InvalidArgument("'name' may not hold control characters");
  if (!IsUtf8(name))
    return Status::InvalidArgument("'name' must be UTF-8 text");
  return ValidateLibraryName(name);  // `library add`'s rule: not a number
}

// An absolute path to an existing folder, resolved as `library add`
// resolves it (a relative path would depend on the server's folder).
Result<std::string> ResolveRoot(const std::string& root) {
  if (root.empty() || root[0] != '/')
    return Status::InvalidArgument("'root' must be an absolute path");
  if (root.find('\0') != std::string::npos)
    return Status::InvalidArgument("'root' holds a NUL byte");
  auto resolved = ResolveLibraryRoot(root);
  if (!resolved.ok())  // bad input, not a missing route: 400
    return Status::InvalidArgument("'root' " + resolved.status().message());
  return resolved;
}

void Create(Api& api, const httplib::Request& req, httplib::Response& res) {
  auto body =
      ParseObject(req.body, {"name", "root", "file_write_mode", "keep_mtime",
                             "write_strategy", "hardlinks"});
  if (!body.ok()) return SendStatus(res, body.status());
  Library lib;
  std::string root;
  Status s = ReadField(*body, "name", &lib.name);
  if (s.ok()) s = ReadField(*body, "root", &root);
  if (s.ok() && (!body->contains("name") || !body->contains("root")))
    s = Status::InvalidArgument("'name' and 'root' are required");
  if (s.ok()) s = CheckName(lib.name);
  if (s.ok()) s = ApplyOptions(*body, &lib);
  if (!s.ok()) return SendStatus(res, s);
  auto resolved = ResolveRoot(root);
  if (!resolved.ok()) return SendStatus(res, resolved.status());
  lib.root = *resolved;
  auto libs = api.db->Libraries();
  if (!libs.ok()) return SendStatus(res, libs.status());
  for (const auto& other : *libs)
    if (other.name == lib.name)
      return SendError(res, 409,
                       "a library named '" + lib.name + "' exists already");
  // A file belongs to one library: no root inside, around or equal to
  // another's (the rule of `library add`).
  if (Status s = CheckRootOverlap(lib.root, *libs); !s.ok())
    return SendStatus(res, s.Prepend("library '" + lib.name + "' not added"));
  auto id = api.db->AddLibrary(lib);
  if (!id.ok()) return SendStatus(res, id.status());
  lib.id = *id;
  auto out = LibraryWithCounts(api, lib, false);
  if (!out.ok()) return SendStatus(res, out.status());
  SendJson(res, 201, *out);
}

// PATCH /libraries/{id}: options and mode; answers like write-mode too.
void Update(Api& api, const httplib::Request& req, httplib::Response& res) {
  Library lib;
  if (!LibraryFromPath(api, req, res, &lib)) return;
  auto body = ParseObject(req.body, {"file_write_mode", "keep_mtime",
                                     "write_strategy", "hardlinks"});
  if (!body.ok()) return SendStatus(res, body.status());
  if (Status s = ApplyOptions(*body, &lib); !s.ok()) return SendStatus(res, s);
  auto affected = api.db->UpdateLibrary(lib);
  if (!affected.ok()) return SendStatus(res, affected.status());
  auto out = LibraryWithCounts(api, lib, false);
  if (!out.ok()) return SendStatus(res, out.status());
  (*out)["requires_reconciliation"] = *affected > 0;
  (*out)["affected_file_count"] = *affected;
  SendJson(res, 200, *out);
}

// PATCH /libraries/{id}/write-mode: the mode from the JSON body or, as
// the original system took it, from ?file_write_mode=.
void WriteMode(Api& api, const httplib::Request& req, httplib::Response& res) {
  Library lib;
  if (!LibraryFromPath(api, req, res, &lib)) return;
  auto body = ParseObject(req.body, {"file_write_mode"});
  if (!body.ok()) return SendStatus(res, body.status());
  std::string mode;
  if (Status s = ReadField(*body, "file_write_mode", &mode); !s.ok())
    return SendStatus(res, s);
  const bool in_body = body->contains("file_write_mode");
  const bool in_query = req.has_param("file_write_mode");
  if (in_query && in_body && req.get_param_value("file_write_mode") != mode)
    return SendError(res, 400,
                     "file_write_mode is given twice with different values");
  if (!in_body && !in_query)
    return SendError(res, 400, "file_write_mode is required");
  if (!in_body) mode = req.get_param_value("file_write_mode");
  auto parsed = ParseWriteMode(mode);
  if (!parsed.ok())
    return SendError(res, 400,
                     "file_write_mode must be 'none', 'minimal', or 'full'");
  lib.mode = *parsed;
  auto affected = api.db->UpdateLibrary(lib);
  if (!affected.ok()) return SendStatus(res, affected.status());
  SendJson(res, 200,
           {{"file_write_mode", WriteModeName(lib.mode)},
            {"requires_reconciliation", *affected > 0},
            {"affected_file_count", *affected}});
}

// DELETE /libraries/{id}: 200 {"removed": id, "name"}.
void Remove(Api& api, const httplib::Request& req, httplib::Response& res) {
  Library lib;
  if (!LibraryFromPath(api, req, res, &lib)) return;
  if (auto body = ParseObject(req.body, {}); !body.ok())
    return SendStatus(res, body.status());
  Status removed;
  auto running = api.jobs.WhileIdle(
      lib.id, [&] { removed = api.db->RemoveLibrary(lib.id); });
  if (running) return SendConflict(res, *running);
  if (removed.code() == Status::Code::kRefused)  // a live run's claims
    return SendError(res, 409, removed.message());
  if (removed.code() == Status::Code::kUnsupported)  // a plugin before 1.5
    return SendError(res, 501, removed.message());
  if (!removed.ok()) return SendStatus(res, removed);
  SendJson(res, 200, {{"removed", lib.id}, {"name", lib.name}});
}

// GET /libraries/{id}/file-tags?path=REL: the `nom` keys on disk.
void FileTags(Api& api, const httplib::Request& req, httplib::Response& res) {
  Library lib;
  if (!LibraryFromPath(api, req, res, &lib)) return;
  if (!req.has_param("path")) return SendError(res, 400, "path is required");
  auto file = FileInsideRoot(lib.root, req.get_param_value("path"));
  if (!file.ok()) return SendStatus(res, file.status());
  auto format = FormatForPath(*api.registry, *file);
  if (!format.ok()) return SendStatus(res, format.status());
  auto tags = ReadFileTags(**format, *file);
  if (!tags.ok()) return SendStatus(res, tags.status());
  nlohmann::json nom = nlohmann::json::object();
  for (const auto& [key, values] : tags->nom.tags) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& v : values) list.push_back(v);
    nom[key] = list;
  }
  SendJson(res, 200,
           {{"path", req.get_param_value("path")},
            {"format", (*format)->container()},
            {"nom", nom}});
}

}  // namespace

void AddLibraryRoutes(httplib::Server& server, Api& api) {
  const std::string lib = R"(/api/web/libraries/([^/]+))";
  server.Get("/api/web/libraries",
             [&api](const httplib::Request&, httplib::Response& res) {
               auto libs = api.db->Libraries();
               if (!libs.ok()) return SendStatus(res, libs.status());
               nlohmann::json out = nlohmann::json::array();
               for (const auto& l : *libs) {
                 auto one = LibraryWithCounts(api, l, false);
                 if (!one.ok()) return SendStatus(res, one.status());
                 out.push_back(*one);
               }
               SendJson(res, 200, {{"libraries", out}});
             });
  server.Post("/api/web/libraries",
              [&api](const httplib::Request& req, httplib::Response& res) {
                Create(api, req, res);
              });
  server.Get(lib, [&api](const httplib::Request& req, httplib::Response& res) {
    Library l;
    if (!LibraryFromPath(api, req, res, &l)) return;
    auto out = LibraryWithCounts(api, l, true);
    if (!out.ok()) return SendStatus(res, out.status());
    SendJson(res, 200, *out);
  });
  server.Patch(lib, [&api](const httplib::Request& req,
                           httplib::Response& res) { Update(api, req, res); });
  server.Delete(lib, [&api](const httplib::Request& req,
                            httplib::Response& res) { Remove(api, req, res); });
  server.Patch(lib + "/write-mode",
               [&api](const httplib::Request& req, httplib::Response& res) {
                 WriteMode(api, req, res);
               });
  server.Get(lib + "/file-tags",
             [&api](const httplib::Request& req, httplib::Response& res) {
               FileTags(api, req, res);
             });
}

}  // namespace nomtag::server
