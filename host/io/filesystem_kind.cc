#include "io/filesystem_kind.h"

#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>

#include <cstdint>

namespace nomtag {
namespace {

// Types not in every <linux/magic.h>.
constexpr long kZfsMagic = 0x2fc12fc1;
constexpr long kBcachefsMagic = 0xca451a4e;

}  // namespace

long FilesystemType(int fd) {
  struct statfs fs;
  // The magic numbers are 32-bit; f_type's width and sign vary by arch.
  return ::fstatfs(fd, &fs) == 0
             ? static_cast<long>(static_cast<uint32_t>(fs.f_type))
             : 0;
}

bool SyncfsIsThorough(long type) {
  switch (type) {
    case EXT4_SUPER_MAGIC:  // also ext2 and ext3, same magic
    case XFS_SUPER_MAGIC:
    case BTRFS_SUPER_MAGIC:
    case F2FS_SUPER_MAGIC:
    case kZfsMagic:
    case OVERLAYFS_SUPER_MAGIC:  // syncs its upper filesystem
    case TMPFS_MAGIC:            // nothing to make durable
      return true;
    default:
      return false;
  }
}

bool MayShareExtents(long type) {
  switch (type) {
    case XFS_SUPER_MAGIC:
    case BTRFS_SUPER_MAGIC:
    case kZfsMagic:
    case kBcachefsMagic:
    case NFS_SUPER_MAGIC:
    case CIFS_SUPER_MAGIC:
    case SMB2_SUPER_MAGIC:
      return true;
    default:
      return false;
  }
}

bool MayInsertRanges(int fd) {
  switch (FilesystemType(fd)) {
    case XFS_SUPER_MAGIC:
      return true;
    case EXT4_SUPER_MAGIC: {
      // ext4 refuses to insert into an encrypted (fscrypt) or DAX file.
      int flags = 0;
      return ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 &&
             (flags & FS_EXTENT_FL) != 0 &&
             (flags & (FS_ENCRYPT_FL | FS_DAX_FL)) == 0;
    }
    default:
      return false;
  }
}

}  // namespace nomtag
