#include "write/sync_barrier.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <utility>

#include "io/filesystem_kind.h"
#include "io/posix_file.h"
#include "write/fault_injection.h"

namespace nomtag {
namespace {

bool GroupCommitOff() {
  const char* v = std::getenv("NOMTAG_GROUP_COMMIT");
  return v != nullptr && std::strcmp(v, "off") == 0;
}

Status Hook(const char* step, const std::string& label) {
  return step ? InjectedFailure(step, label) : Status::OK();
}

}  // namespace

void SyncBarrier::AddFile(size_t member, int fd, const char* step,
                          std::string label) {
  entries_.push_back({member, fd, false, step, std::move(label)});
}

void SyncBarrier::AddFolder(size_t member, int dir_fd, const char* step,
                            std::string label) {
  entries_.push_back({member, dir_fd, true, step, std::move(label)});
}

void SyncBarrier::SyncEach(const std::vector<const Entry*>& entries,
                           std::vector<Status>* out) {
  // Files first, then folders; each file or folder once (the members of
  // a folder share it and their journal), its result given to every
  // member that needed it.
  std::map<std::pair<dev_t, ino_t>, Status> synced;
  for (bool folder : {false, true}) {
    for (const Entry* e : entries) {
      if (e->folder != folder) continue;
      Status& mine = (*out)[e->member];
      Status s = Hook(e->step, e->label);
      struct stat st;
      if (s.ok() && ::fstat(e->fd, &st) != 0) {
        s = ErrnoStatus(e->label, folder ? "stat its folder" : "stat");
      } else if (s.ok()) {
        auto [it, fresh] = synced.try_emplace({st.st_dev, st.st_ino});
        if (fresh)
          it->second = folder                ? FsyncDirectory(e->fd, e->label)
                       : ::fsync(e->fd) != 0 ? ErrnoStatus(e->label, "fsync")
                                             : Status::OK();
        s = it->second;
      }
      if (mine.ok() && !s.ok()) mine = s;
    }
  }
}

std::vector<Status> SyncBarrier::Sync(size_t members) {
  std::vector<Status> out(members);
  std::map<dev_t, std::vector<const Entry*>> by_filesystem;
  std::vector<const Entry*> each;
  const bool group = members >= 2 && !GroupCommitOff();
  std::map<dev_t, bool> thorough;  // by device: its filesystem asked once
  for (const Entry& e : entries_) {
    struct stat st;
    if (group && ::fstat(e.fd, &st) == 0) {
      auto [it, fresh] = thorough.try_emplace(st.st_dev, false);
      if (fresh) it->second = SyncfsIsThorough(FilesystemType(e.fd));
      if (it->second) {
        by_filesystem[st.st_dev].push_back(&e);
        continue;
      }
    }
    each.push_back(&e);
  }
  for (const auto& [dev, entries] : by_filesystem) {
    if (::syncfs(entries.front()->fd) != 0) {
      // Which file the error belongs to: each member's own fsync says.
      SyncEach(entries, &out);
      continue;
    }
    for (const Entry* e : entries)
      if (Status s = Hook(e->step, e->label); !s.ok() && out[e->member].ok())
        out[e->member] = s;
  }
  SyncEach(each, &out);
  entries_.clear();
  return out;
}

}  // namespace nomtag
