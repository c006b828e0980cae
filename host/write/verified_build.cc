#include "write/verified_build.h"

#include "write/fault_injection.h"
#include "write/payload_check.h"

namespace nomtag {
namespace {

// Structure items are short text worth quoting in a message; tag data
// may be binary or long.
bool IsShortText(const std::string& s) {
  if (s.size() > 240) return false;
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

// The first difference between two foreign snapshots, for the message.
std::string FirstDifference(const ForeignSnapshot& before,
                            const ForeignSnapshot& after) {
  size_t n = std::min(before.size(), after.size());
  for (size_t i = 0; i < n; ++i) {
    if (before[i].id != after[i].id)
      return "'" + before[i].id + "' would become '" + after[i].id + "'";
    if (before[i].data != after[i].data)
      return "'" + before[i].id + "' would change" +
             (IsShortText(before[i].data) && IsShortText(after[i].data)
                  ? " from \"" + before[i].data + "\" to \"" + after[i].data +
                        "\""
                  : "");
  }
  if (before.size() > n) return "'" + before[n].id + "' would be lost";
  if (after.size() > n) return "'" + after[n].id + "' would appear";
  return "";
}

// Values for a message: quoted, with control bytes (a NUL above all)
// visible.
std::string Shown(const TagValues* values) {
  if (!values) return "(absent)";
  std::string out = "[";
  for (size_t i = 0; i < values->size(); ++i) {
    out += i ? ", \"" : "\"";
    for (unsigned char c : (*values)[i]) {
      if (c < 0x20 || c == '"' || c == '\\') {
        static const char kHex[] = "0123456789abcdef";
        out += c == '"' ? "\\\"" : c == '\\' ? "\\\\" : "";
        if (c < 0x20) out += std::string("\\x") + kHex[c >> 4] + kHex[c & 15];
      } else {
        out += static_cast<char>(c);
      }
    }
    out += "\"";
  }
  return out + "]";
}

// The first key whose values differ, with both, for the message.
std::string FirstKeyDifference(const TagSet& desired, const TagSet& got) {
  auto find = [](const TagSet& set, const std::string& key) {
    auto it = set.find(key);
    return it == set.end() ? nullptr : &it->second;
  };
  for (const auto* set : {&desired, &got})
    for (const auto& [key, values] : *set) {
      const TagValues* want = find(desired, key);
      const TagValues* have = find(got, key);
      if (!want || !have || *want != *have)
        return "key '" + key + "' was to be " + Shown(want) +
               " but reads back as " + Shown(have);
    }
  return "a key reads back in the older encoding";
}

Status Refuse(const std::string& label, const std::string& why) {
  return Status::Refused(label + ": verify: " + why +
                         "; the file was not written");
}

}  // namespace

Result<BuildOutcome> BuildVerified(const FormatPlugin& format,
                                   OverlayStream& original,
                                   OverlayStream& edited, const TagSet& desired,
                                   uint32_t padding, const std::string& label) {
  BuildOutcome outcome;
  // The namespace, and what must survive: one parse where the plugin
  // can.
  auto before = format.ReadTags(*original.stream());
  if (!before.ok()) return before.status();
  if (before->nom.tags == desired && !before->nom.has_legacy_keys) {
    outcome.unchanged = true;
    return outcome;
  }
  if (Status s = InjectedFailure("snapshot", label); !s.ok()) return s;
  // The payload is first named coarsely where the format can (an Ogg
  // stream's audio pages whole, found from the headers), so that a write
  // which left those bytes alone is proven by the overlay's mapping
  // without walking the audio; the exact description is read only when
  // that proof fails.
  auto coarse_before = format.ReadPayload(*original.stream(), true);
  if (!coarse_before.ok()) return coarse_before.status();

  if (Status s = InjectedFailure("build", label); !s.ok()) return s;
  if (Status s = format.WriteNamespace(*edited.stream(), desired, padding);
      !s.ok())
    return s;

  if (Status s = InjectedFailure("verify", label); !s.ok()) return s;
  auto after = format.ReadTags(*edited.stream());
  if (!after.ok())
    return Refuse(label, "the new file cannot be read back (" +
                             after.status().message() + ")");
  if (after->nom.tags != desired || after->nom.has_legacy_keys)
    return Refuse(label, "the namespace does not read back as written: " +
                             FirstKeyDifference(desired, after->nom.tags));
  if (after->foreign != before->foreign)
    return Refuse(label, "a tag that is not ours, " +
                             FirstDifference(before->foreign, after->foreign));
  auto coarse_after = format.ReadPayload(*edited.stream(), true);
  if (!coarse_after.ok())
    return Refuse(label, "the audio cannot be read back (" +
                             coarse_after.status().message() + ")");
  if (PayloadProvenByMapping(*coarse_before, *coarse_after, edited)) {
    outcome.payload_proven_by_mapping = true;
    return outcome;
  }
  auto payload_before = format.ReadPayload(*original.stream());
  if (!payload_before.ok()) return payload_before.status();
  auto payload_after = format.ReadPayload(*edited.stream());
  if (!payload_after.ok())
    return Refuse(label, "the audio cannot be read back (" +
                             payload_after.status().message() + ")");
  if (Status s =
          CheckPayloadUnchanged(*payload_before, original, *payload_after,
                                edited, &outcome.payload_proven_by_mapping);
      !s.ok())
    return Refuse(label, s.message());
  return outcome;
}

}  // namespace nomtag
