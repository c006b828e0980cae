#include "write/safe_write.h"

#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "core/parallel_for.h"
#include "io/file_source.h"
#include "io/filesystem_kind.h"
#include "io/overlay_stream.h"
#include "write/commit.h"
#include "write/fault_injection.h"
#include "write/recovery.h"
#include "write/sync_barrier.h"
#include "write/verified_build.h"

namespace nomtag {
namespace {

Status CheckWritable(const TargetFile& target) {
  // Root may write anything; a file or folder without write permission is
  // still the user saying "leave this alone".
  if ((target.identity().mode & 0222) == 0)
    return Status::Refused(target.path() +
                           ": the file is read-only; not written");
  struct stat st;
  if (::fstat(target.dir_fd(), &st) == 0 && (st.st_mode & 0222) == 0)
    return Status::Refused(target.path() +
                           ": its folder is read-only; not written");
  if (!target.writable())
    return Status::Refused(target.path() +
                           ": cannot be opened for writing; not written");
  return Status::OK();
}

}  // namespace

const char* ActionName(WriteResult::Action action) {
  switch (action) {
    case WriteResult::Action::kUnchanged:
      return "unchanged";
    case WriteResult::Action::kInPlace:
      return "in place";
    case WriteResult::Action::kGrownInPlace:
      return "grown in place";
    case WriteResult::Action::kCopied:
      return "copied";
  }
  return "?";
}

Result<FileTags> ReadTargetTags(const FormatPlugin& format,
                                TargetFile& target) {
  OverlayStream original(&target.source(), /*read_only=*/true);
  return format.ReadTags(*original.stream());
}

Result<FileTags> ReadFileTags(const FormatPlugin& format,
                              const std::string& path) {
  auto target = TargetFile::Open(path, TargetFile::Purpose::kRead);
  if (!target.ok()) return target.status();
  return ReadTargetTags(format, **target);
}

Result<WriteResult> SafeWriteNamespace(const FormatPlugin& format,
                                       const std::string& path,
                                       const TagSet& desired,
                                       const WriteOptions& options) {
  if (Status s = InjectedFailure("open", path); !s.ok()) return s;
  auto target = TargetFile::Open(path, TargetFile::Purpose::kWrite);
  if (!target.ok()) return target.status();
  return SafeWriteTarget(format, **target, desired, options);
}

namespace {

// One member of a group on its way through the stages of commit.h.
struct Member {
  Member(TargetFile& target)
      : original(&target.source(), /*read_only=*/true),
        edited(std::make_unique<OverlayStream>(&target.source(),
                                               /*read_only=*/false)) {}
  OverlayStream original;
  std::unique_ptr<OverlayStream> edited;  // replaced by an aligned build
  std::unique_ptr<PendingCommit> commit;
  WriteResult result;
  Status status;  // not OK: the member left the group with this error
};

// How far the largest original range of a copy sits from where a
// filesystem could share it: the bytes to add before it so that its new
// offset is its old one within a clone block (commit.h). 0 when it is
// there already, or when no range is worth sharing (under 64 KiB).
uint64_t Misalignment(const OverlayStream& edited) {
  uint64_t pos = 0, best_len = 0, best_new = 0, best_old = 0;
  for (const auto& p : edited.pieces()) {
    if (p.from_base && p.length > best_len) {
      best_len = p.length;
      best_new = pos;
      best_old = p.base_offset;
    }
    pos += p.length;
  }
  if (best_len < 16 * kCloneBlock) return 0;
  return (best_old % kCloneBlock + kCloneBlock - best_new % kCloneBlock) %
         kCloneBlock;
}

// Whether a copy of this file is worth laying out for cloning:
// NOMTAG_ALIGN_COPIES=on or off decides (tests, the bench's baseline),
// else the filesystem's type (io/filesystem_kind.h).
bool WantAlignedCopy(const TargetFile& target) {
  const char* env = std::getenv("NOMTAG_ALIGN_COPIES");
  if (env && std::string(env) == "on") return true;
  if (env && std::string(env) == "off") return false;
  return MayShareExtents(FilesystemType(target.fd()));
}

// Whether a tag area that grows is to grow in place (commit.h, a shift;
// where the filesystem can) rather than be copied: NOMTAG_SHIFT=on or off
// decides (tests, the bench's baseline); else where a copy cannot share
// the audio with the original (on XFS, which can do both, 3,000 first
// writes by clone took 1.04 s, grown in place 1.45 s), or where a copy
// would detach a hard link.
bool WantShift(const TargetFile& target) {
  const char* env = std::getenv("NOMTAG_SHIFT");
  if (env && std::string(env) == "on") return true;
  if (env && std::string(env) == "off") return false;
  return target.identity().nlink > 1 || !WantAlignedCopy(target);
}

// The padding a plugin is asked for when nomtag picks it to align a copy
// (the formats' own defaults are 1 KiB to 4 KiB): the copy gets this plus
// less than a clone block.
constexpr uint32_t kAlignBasePadding = 1024;
// Builds an alignment may try after its probe (most formats need one).
constexpr int kAlignAttempts = 5;

// A copy whose audio lands at its old offset within a clone block, so the
// filesystem shares it rather than writing it again (and a tag area that
// grows by whole blocks, so that it can grow in place: commit.h): the tag
// area grows by the bytes missing (a larger padding; every format's tag
// area sits before the audio). The padding the plugin picks by default is
// not known here, so it is first asked for an explicit one to measure
// from. A format whose tag area grows by more than the padding it is
// given (an Ogg page gains a lacing byte per 255 bytes of packet) needs a
// correction or two; a padding once tried is not tried again (a byte more
// may cost two), so the search ends. Never less padding than asked for.
// Each build is verified like the first. Returns the edited stream and
// whether its payload was proven by mapping; nothing when the first build
// is already aligned or no build comes out aligned (a format whose layout
// does not shift with the padding: an Ogg stream whose headers need
// another page is renumbered page by page).
std::optional<std::pair<std::unique_ptr<OverlayStream>, bool>> AlignedBuild(
    const SafeWriteItem& item, Member& m) {
  uint64_t missing = Misalignment(*m.edited);
  if (missing == 0) return std::nullopt;
  TargetFile& target = *item.target;
  auto build = [&](uint64_t padding)
      -> std::optional<std::pair<std::unique_ptr<OverlayStream>, bool>> {
    if (padding > UINT32_MAX) return std::nullopt;
    auto edited =
        std::make_unique<OverlayStream>(&target.source(), /*read_only=*/false);
    auto built = BuildVerified(*item.format, m.original, *edited, item.desired,
                               static_cast<uint32_t>(padding), target.path());
    if (!built.ok() || built->unchanged || !edited->ShareUnchangedBytes().ok())
      return std::nullopt;
    return std::make_pair(std::move(edited), built->payload_proven_by_mapping);
  };
  const uint64_t least =
      item.options.padding == 0 ? kAlignBasePadding : item.options.padding;
  uint64_t padding = least;
  if (item.options.padding == 0) {
    auto probe = build(padding);
    if (!probe) return std::nullopt;
    missing = Misalignment(*probe->first);
    if (missing == 0) return probe;
  }
  std::set<uint64_t> tried = {padding};
  for (int attempt = 0; attempt < kAlignAttempts; ++attempt) {
    // Missing more than half a block: too far already, less padding.
    const uint64_t over = kCloneBlock - missing;
    padding = missing > kCloneBlock / 2 && padding - least >= over
                  ? padding - over
                  : padding + missing;
    while (!tried.insert(padding).second) padding += kCloneBlock / 16 + 1;
    auto aligned = build(padding);
    if (!aligned) return std::nullopt;
    missing = Misalignment(*aligned->first);
    if (missing == 0) return aligned;
  }
  return std::nullopt;
}

// Steps 1 to 5 and the commit's first stage: on return the member is
// finished (unchanged, or failed with the file as it was) or staged.
void Prepare(const SafeWriteItem& item, Member& m) {
  TargetFile& target = *item.target;
  const std::string& path = target.path();
  const WriteOptions& options = item.options;
  for (const auto& [key, values] : item.desired) {
    if (!IsValidTagKey(key)) {
      m.status = Status::InvalidArgument(path + ": '" + key +
                                         "' is not a valid nom key");
      return;
    }
    if (values.empty()) {
      m.status =
          Status::InvalidArgument(path + ": key '" + key + "' has no value");
      return;
    }
  }
  // 1. A journal a killed writer left was resolved before (SafeWriteBatch),
  // under the file's lock, so the build reads a whole version.
  CrashPoint("after-open");

  // Writability is checked after the build, and only when the build finds
  // something to write: an up-to-date read-only file is not an error.
  auto built = BuildVerified(*item.format, m.original, *m.edited, item.desired,
                             options.padding, path);
  if (!built.ok()) {
    m.status = built.status();
    return;
  }
  if (built->unchanged) {
    m.result.after = target.identity();
    return;
  }
  m.result.payload_proven_by_mapping = built->payload_proven_by_mapping;
  if (m.status = CheckWritable(target); !m.status.ok()) return;
  CrashPoint("before-commit");

  // 6. Commit: its first stage.
  if (m.status = m.edited->ShareUnchangedBytes(); !m.status.ok()) return;
  const bool in_place = !options.copy_only && m.edited->PreservesOffsets();
  // A tag area that grows at the front: moved by whole blocks, the rest of
  // the file can stay where it is on disk (commit.h, a shift).
  std::optional<ShiftPlan> shift;
  if (!in_place && !options.copy_only && WantShift(target) &&
      MayInsertRanges(target.fd())) {
    shift = PlanShift(target, *m.edited);
    if (!shift)
      if (auto aligned = AlignedBuild(item, m); aligned) {
        m.edited = std::move(aligned->first);
        m.result.payload_proven_by_mapping = aligned->second;
        shift = PlanShift(target, *m.edited);
      }
  }
  const bool copy = !in_place && !shift;
  if (copy && target.identity().nlink > 1 && !options.break_hardlinks) {
    m.status = Status::Refused(
        path + ": has " + std::to_string(target.identity().nlink) + " " +
        kHardLinkRefusal +
        "; writing a copy would detach this name from the others (library "
        "option hardlinks: break allows it)");
    return;
  }
  // A larger padding only moves the audio further: a copy stays a copy.
  if (copy && WantAlignedCopy(target)) {
    if (auto aligned = AlignedBuild(item, m); aligned) {
      m.edited = std::move(aligned->first);
      m.result.payload_proven_by_mapping = aligned->second;
    }
  }
  const PendingCommit::Kind kind = in_place ? PendingCommit::Kind::kInPlace
                                   : shift  ? PendingCommit::Kind::kShift
                                            : PendingCommit::Kind::kCopy;
  auto staged = PendingCommit::Stage(
      target, *m.edited, kind,
      CommitOptions{options.keep_mtime, options.before_commit},
      shift.value_or(ShiftPlan{}));
  if (!staged.ok()) {
    m.status = staged.status();
    return;
  }
  m.commit = std::move(*staged);
  m.result.action = in_place ? WriteResult::Action::kInPlace
                    : shift  ? WriteResult::Action::kGrownInPlace
                             : WriteResult::Action::kCopied;
}

}  // namespace

namespace {

// The last stage of a staged member's commit, once its file is durable
// (or its write failed): the journal removed, or the file rolled back.
void Finish(Member& m, const Status& synced) {
  m.status = m.commit->Finish(synced);
  CommitStats& stats = m.commit->stats();
  m.result.bytes_written = stats.bytes_written;
  m.result.before = stats.before;
  m.result.after = stats.after;
  m.result.warnings = std::move(stats.warnings);
  m.commit.reset();  // removes what a failed member left beside it
}

// Takes the staged members in [begin, end) through the rest of the
// commit: everything staged made durable at once, then every file
// written, then every file made durable at once (sync_barrier.h).
void CommitStaged(std::vector<std::unique_ptr<Member>>& members, size_t begin,
                  size_t end) {
  auto staged = [&](size_t i) {
    return members[i]->status.ok() && members[i]->commit != nullptr;
  };
  // The journals of the writes in place: one per folder.
  std::vector<PendingCommit*> commits;
  for (size_t i = begin; i < end; ++i)
    commits.push_back(staged(i) ? members[i]->commit.get() : nullptr);
  const std::vector<Status> journaled = PendingCommit::StageJournals(commits);
  for (size_t i = begin; i < end; ++i)
    if (staged(i) && !journaled[i - begin].ok()) {
      members[i]->status = journaled[i - begin];
      members[i]->commit.reset();
    }
  SyncBarrier barrier;
  for (size_t i = begin; i < end; ++i)
    if (staged(i)) members[i]->commit->NeedBeforeApply(barrier, i);
  std::vector<Status> synced = barrier.Sync(members.size());
  for (size_t i = begin; i < end; ++i)
    if (staged(i)) {
      members[i]->status = members[i]->commit->Apply(synced[i]);
      if (!members[i]->status.ok()) members[i]->commit.reset();
    }
  // Shifts: the room each made durable before its new bytes go in.
  bool shifts = false;
  for (size_t i = begin; i < end; ++i)
    if (staged(i) &&
        members[i]->commit->kind() == PendingCommit::Kind::kShift) {
      members[i]->commit->NeedBeforeHead(barrier, i);
      shifts = true;
    }
  if (shifts) {
    synced = barrier.Sync(members.size());
    for (size_t i = begin; i < end; ++i)
      if (staged(i)) {
        members[i]->status = members[i]->commit->ApplyHead(synced[i]);
        if (!members[i]->status.ok()) members[i]->commit.reset();
      }
  }
  for (size_t i = begin; i < end; ++i)
    if (staged(i)) members[i]->commit->NeedBeforeFinish(barrier, i);
  synced = barrier.Sync(members.size());
  // Each member's journal goes (or its failed write is rolled back) on
  // its own: side by side, as they were prepared (the journals' removal is
  // most of this step's cost, in the filesystem).
  ParallelFor(
      begin, end, WorkThreads(),
      [&](size_t i) {
        if (staged(i)) Finish(*members[i], synced[i]);
      },
      [] { return true; });
}

}  // namespace

std::vector<Result<WriteResult>> SafeWriteBatch(
    const std::vector<SafeWriteItem>& items) {
  std::vector<std::unique_ptr<Member>> members;
  members.reserve(items.size());
  for (const SafeWriteItem& item : items)
    members.push_back(std::make_unique<Member>(*item.target));
  // 1. What killed writers left in the files' folders, before any is read.
  std::vector<TargetFile*> unresolved;
  std::vector<size_t> unresolved_of;
  for (size_t i = 0; i < items.size(); ++i)
    if (!items[i].leftovers_resolved) {
      unresolved.push_back(items[i].target);
      unresolved_of.push_back(i);
    }
  if (!unresolved.empty()) {
    RecoveryReport recovery;
    std::vector<char> rolled_back;
    const std::vector<Status> recovered =
        RecoverJournalsOf(unresolved, &recovery, &rolled_back);
    for (size_t k = 0; k < unresolved.size(); ++k) {
      Member& m = *members[unresolved_of[k]];
      m.status = recovered[k];
      m.result.rolled_back = rolled_back[k];
    }
  }
  // Members are prepared side by side (reading, building and verifying a
  // file is CPU work that touches that file alone; format plugins are
  // thread-safe for distinct streams); every step that needs the others
  // or the database (the syncs, the gate, the patches) runs after, on
  // this thread, in order.
  //
  // Staged copies are whole files waiting beside their originals: a group
  // is committed early once they add up to kMaxGroupCopyBytes (give or
  // take the few copies already being made on other threads), so a batch
  // of large first writes never needs much more free space than that.
  const size_t threads = WorkThreads();
  size_t begin = 0;
  while (begin < items.size()) {
    std::atomic<uint64_t> copy_bytes{0};
    const size_t end = ParallelFor(
        begin, items.size(), threads,
        [&](size_t i) {
          Member& m = *members[i];
          if (!m.status.ok()) return;  // its leftovers stay unresolved
          Prepare(items[i], m);
          if (m.commit && m.commit->kind() == PendingCommit::Kind::kCopy)
            copy_bytes += m.edited->length();
        },
        [&] { return copy_bytes.load() < kMaxGroupCopyBytes; });
    CommitStaged(members, begin, end);
    begin = end;
  }
  std::vector<Result<WriteResult>> out;
  out.reserve(members.size());
  for (auto& m : members) {
    if (m->status.ok())
      out.emplace_back(std::move(m->result));
    else
      out.emplace_back(m->status);
  }
  return out;
}

Result<WriteResult> SafeWriteTarget(const FormatPlugin& format,
                                    TargetFile& target, const TagSet& desired,
                                    const WriteOptions& options) {
  auto out =
      SafeWriteBatch({SafeWriteItem{&format, &target, desired, options}});
  return std::move(out.front());
}

}  // namespace nomtag
