#include "core/analysis.h"

#include <map>

namespace nomtag {

std::string TagKeyPart(const std::string& text) {
  std::string out;
  bool dash = false;
  for (char ch : text) {
    char c = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (ok) {
      out += c;
      dash = false;
    } else if (!dash && !out.empty()) {
      out += '-';
      dash = true;
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  // A key starts with a letter or digit.
  size_t start = out.find_first_not_of("._-");
  out = start == std::string::npos ? "" : out.substr(start);
  if (out.size() > 128) out.resize(128);
  return out;
}

TagSet AnalysisTags(const FileAnalysis& analysis,
                    const Calibration* calibration, const TierRule& rule) {
  TagSet tags;
  for (const auto& d : analysis.descriptors) {
    std::string key = TagKeyPart(d.name);
    if (IsValidTagKey(key)) tags[key] = {FormatNumber(d.value)};
  }
  for (const auto& h : analysis.heads) {
    std::string key = TagKeyPart(h.label + "_" + h.model_id);
    if (IsValidTagKey(key)) tags[key] = {FormatNumber(h.score)};
  }
  if (calibration == nullptr) return tags;

  // Calibrated evidence per tier source, with its opposite's value from the
  // same model.
  std::map<CalibrationKey, double> calibrated;
  for (const auto& h : analysis.heads) {
    double v = 0;
    if (calibration->Apply(h.model_id, h.label, h.score, &v))
      calibrated[{h.model_id, h.label}] = v;
  }
  std::vector<TierCandidate> candidates;
  for (const auto& h : analysis.heads) {
    if (!h.tier_source) continue;
    auto it = calibrated.find({h.model_id, h.label});
    if (it == calibrated.end()) continue;  // not calibrated: no tier
    TierCandidate c{h.label, h.opposite, it->second, 0, h.spread};
    if (!h.opposite.empty()) {
      auto o = calibrated.find({h.model_id, h.opposite});
      if (o != calibrated.end()) c.counter = o->second;
    }
    candidates.push_back(c);
  }
  if (candidates.empty()) return tags;
  Tiers tiers = AssignTiers(candidates, rule);
  auto put = [&tags](const char* key, const std::set<std::string>& labels) {
    if (!labels.empty()) tags[key] = TagValues(labels.begin(), labels.end());
  };
  put("mood-strict", tiers.strict);
  put("mood-regular", tiers.regular);
  put("mood-loose", tiers.loose);
  return tags;
}

TagSet MergeTags(TagSet database_tags, const TagSet& analysis_tags) {
  for (const auto& [key, values] : analysis_tags) database_tags[key] = values;
  return database_tags;
}

}  // namespace nomtag
