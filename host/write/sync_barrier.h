// SyncBarrier: makes what a group of writes put on disk durable at once.
//
// A write in place or by copy needs two moments of durability (commit.h):
// its journal or copy before the file is touched, and the file (or the
// folder of its rename) before the journal goes. One write makes them
// with fsync. A group of writes (group commit, safe_write.h) makes them
// together, once per barrier, so a batch costs a few syncs, not three per
// file:
//
//   - Whole-filesystem sync (syncfs) on the filesystems of the group,
//     once each, when every member is on one whose syncfs writes back and
//     commits everything (ext4, XFS, btrfs, F2FS, ZFS, overlayfs, tmpfs):
//     one journal commit and one cache flush, whatever the group's size.
//     Since Linux 5.8 syncfs reports a writeback error of the filesystem;
//     when it fails, or when a test asks a member to fail, each member is
//     then fsynced on its own, which names the file the error belongs to
//     (fsync reports an error through each file's own descriptor, apart
//     from syncfs).
//   - Per-member fsync otherwise: on NFS, CIFS and FUSE (mergerfs, shfs on
//     Unraid, sshfs) syncfs may return before the server or the backing
//     store has the data, so nothing is assumed; every file is fsynced,
//     every folder once. Also for a group of one, where a whole-filesystem
//     sync would flush other programs' writes for nothing.
//
// A group spanning several filesystems gets one syncfs per filesystem
// (members found by st_dev), or per-member fsyncs on the ones above.
// NOMTAG_GROUP_COMMIT=off forces per-member fsyncs (benchmarks compare the
// two in one run).
//
// Not thread-safe; descriptors are borrowed and must stay open until Sync
// returns.
#ifndef NOMTAG_WRITE_SYNC_BARRIER_H_
#define NOMTAG_WRITE_SYNC_BARRIER_H_

#include <cstddef>
#include <string>
#include <vector>

#include "core/status.h"

namespace nomtag {

class SyncBarrier {
 public:
  // The data and metadata (size, times) of file fd must be durable for
  // member. step names the test hook (fault_injection.h) of this sync;
  // label the file in messages.
  void AddFile(size_t member, int fd, const char* step, std::string label);
  // The entries of folder dir_fd (a creation, a rename) must be durable.
  void AddFolder(size_t member, int dir_fd, const char* step,
                 std::string label);

  // Makes everything added durable and forgets it. Returns one status per
  // member (members numbered from 0 below `members`); a member with
  // nothing added is OK.
  std::vector<Status> Sync(size_t members);

 private:
  struct Entry {
    size_t member;
    int fd;
    bool folder;
    const char* step;
    std::string label;
  };
  void SyncEach(const std::vector<const Entry*>& entries,
                std::vector<Status>* out);

  std::vector<Entry> entries_;
};

}  // namespace nomtag

#endif  // NOMTAG_WRITE_SYNC_BARRIER_H_
