// The safe write: claim is the caller's; this is build → verify → commit
// for one file (SPEC section 5).
//
//   1. Open the file read-only and note its identity.
//   2. Read the namespace; if it already is the desired one, stop: the file
//      is not rewritten and its mtime does not move.
//   3. Snapshot the foreign tags and the audio payload.
//   4. Let the format plugin write the namespace into an in-memory overlay.
//   5. Verify through the overlay: the namespace reads back exactly as
//      desired, every foreign item is unchanged, the payload is unchanged.
//      A failure leaves nothing on disk.
//   6. Commit in place under a journal when offsets allow, else by copy and
//      rename (commit.h), after re-checking the file's identity.
//
// Every error names the file, the step and the cause, and leaves the
// original byte-identical. Thread-safe for distinct files.
#ifndef NOMTAG_WRITE_SAFE_WRITE_H_
#define NOMTAG_WRITE_SAFE_WRITE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"
#include "core/tag_set.h"
#include "formats/format_plugin.h"

namespace nomtag {

struct WriteOptions {
  bool keep_mtime = false;       // library option
  bool copy_only = false;        // write_strategy: copy (never in place)
  bool break_hardlinks = false;  // hardlinks: break (allow detaching a name)
  uint32_t padding = 0;          // passed to the plugin; 0 = its default
  // Called right before the first byte of the commit (the claim check of
  // core/file_projector.h's CommitGate); a non-OK status stops the write
  // with nothing written. Unset: always go ahead.
  std::function<Status()> before_commit;
};

struct WriteResult {
  enum class Action { kUnchanged, kInPlace, kCopied };
  Action action = Action::kUnchanged;
  uint64_t bytes_written = 0;
  bool payload_proven_by_mapping = false;
};

const char* ActionName(WriteResult::Action action);

// Part of the message of a write refused because a copy would detach a
// hard-linked name; `status` counts failures by it.
inline constexpr char kHardLinkRefusal[] =
    "hard links and the new tags do not fit in place";

Result<WriteResult> SafeWriteNamespace(const FormatPlugin& format,
                                       const std::string& path,
                                       const TagSet& desired,
                                       const WriteOptions& options);

// What a file holds: its namespace and its foreign items.
struct FileTags {
  NamespaceRead nom;
  ForeignSnapshot foreign;
};
Result<FileTags> ReadFileTags(const FormatPlugin& format,
                              const std::string& path);

}  // namespace nomtag

#endif  // NOMTAG_WRITE_SAFE_WRITE_H_
