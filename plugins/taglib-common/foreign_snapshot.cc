#include "foreign_snapshot.h"

#include "plugin_support.h"
#include "sinks.h"

namespace nomtag::plugins {

void ForeignItems::SendTo(const nomtag_snapshot_sink* sink) const {
  SnapshotSink out(sink);
  for (const auto& [id, data] : items_) out.Item(id, data);
}

void ForeignItems::RequireUnchanged(const nomtag_stream* stream,
                                    const ForeignItems& after) const {
  if (*this == after) return;
  Fail(NOMTAG_ERR_REFUSED, stream,
       "refusing to write: TagLib's save would touch tags that are not ours (" +
           DescribeSnapshotChange(items_, after.items_) + ")");
}

}  // namespace nomtag::plugins
