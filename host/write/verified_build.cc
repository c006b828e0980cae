#include "write/verified_build.h"

#include "write/fault_injection.h"
#include "write/payload_check.h"

namespace nomtag {
namespace {

// The first difference between two foreign snapshots, for the message.
std::string FirstDifference(const ForeignSnapshot& before,
                            const ForeignSnapshot& after) {
  size_t n = std::min(before.size(), after.size());
  for (size_t i = 0; i < n; ++i) {
    if (before[i].id != after[i].id)
      return "'" + before[i].id + "' would become '" + after[i].id + "'";
    if (before[i].data != after[i].data)
      return "'" + before[i].id + "' would change";
  }
  if (before.size() > n) return "'" + before[n].id + "' would be lost";
  if (after.size() > n) return "'" + after[n].id + "' would appear";
  return "";
}

std::string Keys(const TagSet& tags) {
  std::string out;
  for (const auto& [k, v] : tags) out += (out.empty() ? "" : ", ") + k;
  return out.empty() ? "(none)" : out;
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
  auto current = format.ReadNamespace(*original.stream());
  if (!current.ok()) return current.status();
  if (current->tags == desired && !current->has_legacy_keys) {
    outcome.unchanged = true;
    return outcome;
  }

  // What must survive.
  if (Status s = InjectedFailure("snapshot", label); !s.ok()) return s;
  auto foreign_before = format.ReadForeign(*original.stream());
  if (!foreign_before.ok()) return foreign_before.status();
  auto payload_before = format.ReadPayload(*original.stream());
  if (!payload_before.ok()) return payload_before.status();

  if (Status s = InjectedFailure("build", label); !s.ok()) return s;
  if (Status s = format.WriteNamespace(*edited.stream(), desired, padding);
      !s.ok())
    return s;

  if (Status s = InjectedFailure("verify", label); !s.ok()) return s;
  auto written = format.ReadNamespace(*edited.stream());
  if (!written.ok())
    return Refuse(label, "the new file cannot be read back (" +
                             written.status().message() + ")");
  if (written->tags != desired || written->has_legacy_keys)
    return Refuse(label, "the namespace reads back as [" + Keys(written->tags) +
                             "], not as desired [" + Keys(desired) + "]");
  auto foreign_after = format.ReadForeign(*edited.stream());
  if (!foreign_after.ok())
    return Refuse(label, "foreign tags cannot be read back (" +
                             foreign_after.status().message() + ")");
  if (*foreign_after != *foreign_before)
    return Refuse(label, "a tag that is not ours, " +
                             FirstDifference(*foreign_before, *foreign_after));
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
