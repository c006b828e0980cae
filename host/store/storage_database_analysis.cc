// StorageDatabase's analysis half: results per file and inference plugin,
// analysis claims, and the calibration definition (storage ABI 1.2).
#include <cstddef>

#include "core/plugin_error.h"
#include "store/storage_database.h"

namespace nomtag {
namespace {

Status Unsupported() {
  return Status::Unsupported(
      "the storage plugin predates analysis (it needs ABI 1.4); update it");
}

nomtag_analysis_key ToKey(const AnalysisKey& k) {
  return {sizeof(nomtag_analysis_key), k.plugin_id.c_str(), k.version.c_str(),
          k.settings_digest.c_str()};
}

nomtag_status CollectClaim(void* ctx, const nomtag_claimed_file* f) {
  static_cast<std::vector<ClaimedFile>*>(ctx)->push_back(
      {f->file_id, f->path, f->claim_token, f->tags_rev});
  return NOMTAG_OK;
}

HeadScore FromHead(const char* plugin_id, const nomtag_head_output* h) {
  HeadScore s;
  s.plugin_id = plugin_id ? plugin_id : "";
  s.model_id = h->model_id ? h->model_id : "";
  s.label = h->label ? h->label : "";
  s.score = h->score;
  s.spread = h->spread;
  s.tier_source = h->opposite != nullptr;
  s.opposite = h->opposite ? h->opposite : "";
  return s;
}

}  // namespace

bool StorageDatabase::SupportsAnalysis() const {
  return NOMTAG_HAS_FIELD(t_, nomtag_storage, calibration_definition) &&
         t_->calibration_definition != nullptr;
}

Result<std::vector<ClaimedFile>> StorageDatabase::ClaimAnalysis(
    int64_t library_id, const AnalysisKey& key, int64_t force_since_ms,
    const std::string& worker, uint32_t batch, int64_t lease_ms) {
  if (!SupportsAnalysis()) return Unsupported();
  std::lock_guard<std::recursive_mutex> lock(mu_);
  PluginErrorBuffer eb;
  std::vector<ClaimedFile> out;
  nomtag_claim_sink sink{sizeof sink, &out, CollectClaim};
  nomtag_analysis_key k = ToKey(key);
  nomtag_status st = t_->analysis_claim_batch(
      db_, library_id, &k, force_since_ms, worker.c_str(), batch, lease_ms,
      NowMs(), &sink, &eb.err);
  if (st != NOMTAG_OK)
    return StatusFromPlugin(st, "claiming files to analyse", eb.text);
  return out;
}

Result<std::vector<StoredFile>> StorageDatabase::AnalysisDue(
    int64_t library_id, const AnalysisKey& key, int64_t force_since_ms) {
  if (!SupportsAnalysis()) return Unsupported();
  std::lock_guard<std::recursive_mutex> lock(mu_);
  PluginErrorBuffer eb;
  std::vector<StoredFile> out;
  nomtag_file_sink sink{
      sizeof sink, &out,
      [](void* ctx, const nomtag_file_info* f) -> nomtag_status {
        StoredFile s;
        s.id = f->id;
        s.path = f->path;
        s.size = f->size;
        s.mtime_ns = f->mtime_ns;
        static_cast<std::vector<StoredFile>*>(ctx)->push_back(std::move(s));
        return NOMTAG_OK;
      }};
  nomtag_analysis_key k = ToKey(key);
  nomtag_status st = t_->analysis_due_list(db_, library_id, &k, force_since_ms,
                                           &sink, &eb.err);
  if (st != NOMTAG_OK)
    return StatusFromPlugin(st, "listing files due for analysis", eb.text);
  return out;
}

Result<bool> StorageDatabase::RecordAnalysis(const ClaimedFile& file,
                                             const AnalysisKey& key,
                                             const AnalysisOutcome& outcome) {
  if (!SupportsAnalysis()) return Unsupported();
  std::vector<nomtag_head_output> heads;
  for (const auto& h : outcome.heads)
    heads.push_back({sizeof(nomtag_head_output), h.model_id.c_str(),
                     h.label.c_str(), h.score, h.spread,
                     h.tier_source ? h.opposite.c_str() : nullptr});
  std::vector<nomtag_descriptor_value> descriptors;
  for (const auto& d : outcome.descriptors)
    descriptors.push_back(
        {sizeof(nomtag_descriptor_value), d.name.c_str(), d.value});
  nomtag_analysis_result r{
      sizeof r,
      outcome.error.empty() ? nullptr : outcome.error.c_str(),
      heads.data(),
      heads.size(),
      descriptors.data(),
      descriptors.size(),
      outcome.embedding.empty() ? nullptr : outcome.embedding_model.c_str(),
      outcome.embedding.data(),
      outcome.embedding.size(),
      outcome.audio_seconds};
  std::lock_guard<std::recursive_mutex> lock(mu_);
  PluginErrorBuffer eb;
  nomtag_analysis_key k = ToKey(key);
  int32_t recorded = 0;
  nomtag_status st = t_->analysis_record(db_, file.id, file.claim_token, &k, &r,
                                         NowMs(), &recorded, &eb.err);
  if (st != NOMTAG_OK)
    return StatusFromPlugin(st, "storing the analysis of " + file.path,
                            eb.text);
  return recorded != 0;
}

Status StorageDatabase::ReleaseAnalysis(const ClaimedFile& file,
                                        const AnalysisKey& key) {
  if (!SupportsAnalysis()) return Unsupported();
  std::lock_guard<std::recursive_mutex> lock(mu_);
  PluginErrorBuffer eb;
  nomtag_analysis_key k = ToKey(key);
  nomtag_status st =
      t_->analysis_release(db_, file.id, file.claim_token, &k, &eb.err);
  if (st != NOMTAG_OK)
    return StatusFromPlugin(st, "releasing " + file.path, eb.text);
  return Status::OK();
}

Result<FileAnalysis> StorageDatabase::AnalysisOf(int64_t file_id) {
  FileAnalysis out;
  if (!SupportsAnalysis()) return out;  // nothing can have been stored
  std::lock_guard<std::recursive_mutex> lock(mu_);
  PluginErrorBuffer eb;
  nomtag_analysis_sink sink{
      sizeof sink, &out,
      [](void* ctx, const char* plugin,
         const nomtag_head_output* h) -> nomtag_status {
        static_cast<FileAnalysis*>(ctx)->heads.push_back(FromHead(plugin, h));
        return NOMTAG_OK;
      },
      [](void* ctx, const char* plugin,
         const nomtag_descriptor_value* v) -> nomtag_status {
        static_cast<FileAnalysis*>(ctx)->descriptors.push_back(
            {plugin ? plugin : "", v->name ? v->name : "", v->value});
        return NOMTAG_OK;
      }};
  nomtag_status st = t_->analysis_get(db_, 0, file_id, &sink, &eb.err);
  if (st != NOMTAG_OK)
    return StatusFromPlugin(st, "reading analysis results", eb.text);
  return out;
}

Status StorageDatabase::ForEachHead(
    int64_t library_id, const std::function<void(const HeadScore&)>& fn) {
  if (!SupportsAnalysis()) return Unsupported();
  std::lock_guard<std::recursive_mutex> lock(mu_);
  PluginErrorBuffer eb;
  nomtag_analysis_sink sink{
      sizeof sink, const_cast<std::function<void(const HeadScore&)>*>(&fn),
      [](void* ctx, const char* plugin,
         const nomtag_head_output* h) -> nomtag_status {
        (*static_cast<std::function<void(const HeadScore&)>*>(ctx))(
            FromHead(plugin, h));
        return NOMTAG_OK;
      },
      nullptr};
  nomtag_status st = t_->analysis_get(db_, library_id, 0, &sink, &eb.err);
  if (st != NOMTAG_OK)
    return StatusFromPlugin(st, "reading stored scores", eb.text);
  return Status::OK();
}

Result<AnalysisCounts> StorageDatabase::AnalysisStatusOf(int64_t library_id,
                                                         const AnalysisKey& key,
                                                         int64_t lease_ms) {
  if (!SupportsAnalysis()) return Unsupported();
  std::lock_guard<std::recursive_mutex> lock(mu_);
  PluginErrorBuffer eb;
  nomtag_analysis_key k = ToKey(key);
  nomtag_analysis_status s{sizeof s, 0, 0, 0, 0};
  nomtag_status st =
      t_->analysis_status(db_, library_id, &k, lease_ms, NowMs(), &s, &eb.err);
  if (st != NOMTAG_OK)
    return StatusFromPlugin(st, "reading the analysis status", eb.text);
  AnalysisCounts out;
  out.analysed = s.analysed;
  out.due = s.due;
  out.failed = s.failed;
  out.in_progress = s.in_progress;
  nomtag_failure_sink sink{
      sizeof sink, &out.failures,
      [](void* ctx, const char* path, const char* error) -> nomtag_status {
        static_cast<std::vector<std::pair<std::string, std::string>>*>(ctx)
            ->emplace_back(path, error);
        return NOMTAG_OK;
      }};
  st = t_->analysis_failure_list(db_, library_id, &k, &sink, &eb.err);
  if (st != NOMTAG_OK)
    return StatusFromPlugin(st, "listing analysis failures", eb.text);
  return out;
}

Result<std::string> StorageDatabase::CalibrationDefinition() {
  if (!SupportsAnalysis()) return std::string();
  std::lock_guard<std::recursive_mutex> lock(mu_);
  PluginErrorBuffer eb;
  std::string out;
  nomtag_text_sink sink{
      sizeof sink, &out,
      [](void* ctx, const char* text, size_t len) -> nomtag_status {
        static_cast<std::string*>(ctx)->assign(text, len);
        return NOMTAG_OK;
      }};
  nomtag_status st = t_->calibration_definition(db_, &sink, &eb.err);
  if (st != NOMTAG_OK)
    return StatusFromPlugin(st, "reading the calibration", eb.text);
  return out;
}

}  // namespace nomtag
