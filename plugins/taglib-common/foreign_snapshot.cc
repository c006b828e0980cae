#include "foreign_snapshot.h"

#include "plugin_support.h"
#include "sinks.h"

namespace nomtag::plugins {

void ForeignItems::SendTo(const nomtag_snapshot_sink* sink) const {
  SnapshotSink out(sink);
  for (const auto& [id, data] : items_) out.Item(id, data);
}

}  // namespace nomtag::plugins
