// FileSource: a file opened read-only, as a ByteSource, plus what
// identifies it on disk.
//
// Reads go through a small block cache: TagLib parses with many small
// reads, and the verify step reads the same headers again. The file is
// never opened for writing here.
#ifndef NOMTAG_IO_FILE_SOURCE_H_
#define NOMTAG_IO_FILE_SOURCE_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "io/byte_source.h"

namespace nomtag {

// What says "this is still the file we read": device and inode name the
// file; size, mtime and ctime say it was not rewritten meanwhile. ctime is
// what catches a tagger that rewrites a tag at the same size and then
// restores the mtime (Picard's "preserve timestamps"): nobody can set it
// back.
struct FileIdentity {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  int64_t atime_ns = 0;
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t nlink = 0;

  bool SameFile(const FileIdentity& o) const {
    return dev == o.dev && ino == o.ino;
  }
  bool Unchanged(const FileIdentity& o) const {
    return SameFile(o) && size == o.size && mtime_ns == o.mtime_ns &&
           ctime_ns == o.ctime_ns;
  }
};

FileIdentity IdentityFromStat(const struct stat& st);

// lstat of a path; NotFound when it is not there.
Result<FileIdentity> StatPath(const std::string& path);

class FileSource : public ByteSource {
 public:
  // Opens path read-only; refuses what is not a regular file.
  static Result<std::unique_ptr<FileSource>> Open(const std::string& path);
  // Takes over fd (closed by the destructor), already known to be the
  // regular file identity describes; path is for messages.
  static std::unique_ptr<FileSource> Adopt(int fd, std::string path,
                                           const FileIdentity& identity);
  ~FileSource() override;

  Status ReadAt(uint64_t offset, void* buf, size_t len, size_t* got) override;
  uint64_t size() const override { return identity_.size; }
  const std::string& name() const override { return path_; }
  const FileIdentity& identity() const { return identity_; }
  int fd() const { return fd_; }
  // After the file was changed through fd (a rollback by recovery): the
  // new identity, and the cache emptied.
  void Reset(const FileIdentity& identity);

 private:
  FileSource(std::string path, int fd, FileIdentity identity);
  // A cached block: size bytes read at index * kBlockSize (fewer at the
  // end of the file). Not zero-filled first: every byte kept was read.
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size = 0;
  };
  Status ReadBlock(uint64_t index, const Block** block);

  // Small: a tag's header region is usually a few kilobytes, and on a
  // cold disk every byte read is a byte fetched (with 64 KiB blocks a
  // 150-file reconcile read 2.4x more from disk than with 16 KiB).
  static constexpr size_t kBlockSize = 16 * 1024;
  static constexpr size_t kMaxBlocks = 64;

  std::string path_;
  int fd_;
  FileIdentity identity_;
  std::unordered_map<uint64_t, Block> blocks_;
  std::list<uint64_t> order_;  // oldest first, for eviction
};

}  // namespace nomtag

#endif  // NOMTAG_IO_FILE_SOURCE_H_
