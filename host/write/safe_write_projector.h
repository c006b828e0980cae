// SafeWriteProjector: the core's FileProjector on real files — finds the
// format plugin by content (the extension a hint), resolves what an interrupted
// write left, and writes through the safe write with the library's options.
#ifndef NOMTAG_WRITE_SAFE_WRITE_PROJECTOR_H_
#define NOMTAG_WRITE_SAFE_WRITE_PROJECTOR_H_

#include <string>

#include "core/file_projector.h"
#include "io/byte_source.h"
#include "plugins/plugin_registry.h"
#include "write/group_write.h"
#include "write/safe_write.h"

namespace nomtag {

// The format plugin for path's extension, or Unsupported naming what is
// loaded.
Result<const FormatPlugin*> FormatForPath(const PluginRegistry& registry,
                                          const std::string& path);

// The format plugin for what the file open as source holds: the one its
// extension names when that plugin's probe agrees, else the first other
// plugin whose probe does (an Opus stream in a `.ogg` file, a FLAC file
// named `.ogg`); Unsupported naming the file when none does.
Result<const FormatPlugin*> FormatForContent(const PluginRegistry& registry,
                                             const std::string& path,
                                             ByteSource& source);

class SafeWriteProjector : public FileProjector {
 public:
  // REQUIRES: registry outlives the projector.
  explicit SafeWriteProjector(const PluginRegistry& registry)
      : registry_(registry) {}

  Status Project(const Library& library, const std::string& path,
                 const TagSet& desired, CommitGate& gate,
                 Projection* out) override;
  std::vector<Status> ProjectMany(const Library& library,
                                  const std::vector<Item>& items,
                                  std::vector<Projection>* out) override;
  size_t GroupLimit() const override { return kMaxGroup; }
  Result<TagSet> Read(const std::string& path) override;

 private:
  const PluginRegistry& registry_;
};

}  // namespace nomtag

#endif  // NOMTAG_WRITE_SAFE_WRITE_PROJECTOR_H_
