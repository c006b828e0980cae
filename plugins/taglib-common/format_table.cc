#include "format_table.h"

#include <nomtag/cpp/error.hpp>

#include "plugin_support.h"
#include "sinks.h"

namespace nomtag::plugins::format_calls {
namespace {

using sdk::guard;

const FormatFunctions& Functions(void* self) {
  return *static_cast<const FormatFunctions*>(self);
}

}  // namespace

nomtag_status Probe(void* self, const nomtag_stream* s, int32_t* m,
                    nomtag_error* e) {
  return guard(e, [&] {
    RequireStream(s, false);
    if (m == nullptr)
      throw sdk::Error(NOMTAG_ERR_INVALID_ARGUMENT, "out_matches is null");
    *m = Functions(self).matches(s) ? 1 : 0;
  });
}

nomtag_status ReadNamespace(void* self, const nomtag_stream* s,
                            const nomtag_tag_sink* k, nomtag_error* e) {
  return guard(e, [&] { Functions(self).read_namespace(s, k); });
}

nomtag_status ReadForeign(void* self, const nomtag_stream* s,
                          const nomtag_snapshot_sink* k, nomtag_error* e) {
  return guard(e, [&] {
    SnapshotSink check(k);
    Functions(self).prepare(s, false);
    Functions(self).collect_foreign(s).SendTo(k);
  });
}

nomtag_status WriteNamespace(void* self, const nomtag_stream* s,
                             const nomtag_tag* t, size_t n,
                             const nomtag_write_options* o, nomtag_error* e) {
  return guard(e, [&] { Functions(self).write_namespace(s, t, n, o); });
}

nomtag_status ReadPayload(void* self, const nomtag_stream* s,
                          const nomtag_payload_sink* k, nomtag_error* e) {
  return guard(e, [&] { Functions(self).read_payload(s, k); });
}

nomtag_status ReadTags(void* self, const nomtag_stream* s,
                       const nomtag_tag_sink* t, const nomtag_snapshot_sink* k,
                       nomtag_error* e) {
  return guard(e, [&] {
    SnapshotSink check(k);
    Functions(self).read_tags(s, t).SendTo(k);
  });
}

}  // namespace nomtag::plugins::format_calls
