// SafeWriteProjector: the core's FileProjector on real files — finds the
// format plugin by extension, resolves what an interrupted write left, and
// writes through the safe write with the library's options.
#ifndef NOMTAG_WRITE_SAFE_WRITE_PROJECTOR_H_
#define NOMTAG_WRITE_SAFE_WRITE_PROJECTOR_H_

#include <string>

#include "core/file_projector.h"
#include "plugins/plugin_registry.h"

namespace nomtag {

// The format plugin for path's extension, or Unsupported naming what is
// loaded.
Result<const FormatPlugin*> FormatForPath(const PluginRegistry& registry,
                                          const std::string& path);

class SafeWriteProjector : public FileProjector {
 public:
  // REQUIRES: registry outlives the projector.
  explicit SafeWriteProjector(const PluginRegistry& registry)
      : registry_(registry) {}

  Status Project(const Library& library, const std::string& path,
                 const TagSet& desired, CommitGate& gate,
                 bool* written) override;
  Result<TagSet> Read(const std::string& path) override;

 private:
  const PluginRegistry& registry_;
};

}  // namespace nomtag

#endif  // NOMTAG_WRITE_SAFE_WRITE_PROJECTOR_H_
