#include "format_table.h"

#include <cstdlib>
#include <nomtag/cpp/error.hpp>

#include "plugin_support.h"
#include "sinks.h"

namespace nomtag::plugins {
namespace {

using sdk::guard;

const FormatFunctions* g_functions = nullptr;

nomtag_status Probe(const nomtag_stream* s, int32_t* m, nomtag_error* e) {
  return guard(e, [&] {
    RequireStream(s, false);
    if (m == nullptr)
      throw sdk::Error(NOMTAG_ERR_INVALID_ARGUMENT, "out_matches is null");
    *m = g_functions->matches(s) ? 1 : 0;
  });
}

nomtag_status ReadNamespace(const nomtag_stream* s, const nomtag_tag_sink* k,
                            nomtag_error* e) {
  return guard(e, [&] { g_functions->read_namespace(s, k); });
}

nomtag_status ReadForeign(const nomtag_stream* s, const nomtag_snapshot_sink* k,
                          nomtag_error* e) {
  return guard(e, [&] {
    SnapshotSink check(k);
    g_functions->prepare(s, false);
    g_functions->collect_foreign(s).SendTo(k);
  });
}

nomtag_status WriteNamespace(const nomtag_stream* s, const nomtag_tag* t,
                             size_t n, const nomtag_write_options* o,
                             nomtag_error* e) {
  return guard(e, [&] { g_functions->write_namespace(s, t, n, o); });
}

nomtag_status ReadPayload(const nomtag_stream* s, const nomtag_payload_sink* k,
                          nomtag_error* e) {
  return guard(e, [&] { g_functions->read_payload(s, k); });
}

}  // namespace

const nomtag_format* FormatTable(const FormatFunctions& functions) {
  // Two formats in one library would answer for each other: fail loudly.
  if (g_functions != nullptr && g_functions != &functions) std::abort();
  g_functions = &functions;
  static const nomtag_format table{sizeof(nomtag_format), functions.container,
                                   functions.extensions,  Probe,
                                   ReadNamespace,         ReadForeign,
                                   WriteNamespace,        ReadPayload};
  return &table;
}

}  // namespace nomtag::plugins
