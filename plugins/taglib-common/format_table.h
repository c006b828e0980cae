// The C side of a format plugin, written once.
//
// A plugin writes its format as C++ functions that throw sdk::Error and
// lists them in a FormatFunctions with static storage; FormatTable<F>()
// gives the nomtag_format table (format.h) whose entries run them under
// sdk::guard, so an exception becomes a status and a message for the host.
// The plugin's get_interface hands that table out:
//
//   const FormatFunctions kFunctions{...};
//   const void* GetInterface(const char* id) {
//     return sdk::interface_is(id, NOMTAG_FORMAT_INTERFACE_ID)
//                ? FormatTable<kFunctions>() : nullptr;
//   }
//
// The table finds its functions without a global: the 1.6 calls through
// the `self` the host passes back (&F), the older calls through the
// template argument. So one library may hold several tables.
#ifndef NOMTAG_PLUGINS_TAGLIB_COMMON_FORMAT_TABLE_H_
#define NOMTAG_PLUGINS_TAGLIB_COMMON_FORMAT_TABLE_H_

#include <nomtag/format.h>

#include "foreign_snapshot.h"

namespace nomtag::plugins {

struct FormatFunctions {
  const char* container;          // format.h: container name
  const char* const* extensions;  // NULL-ended, lower case, no dot
  // True when the stream looks like this format (magic bytes only).
  bool (*matches)(const nomtag_stream* stream);
  // Throws unless the stream can be read (or written) as this format.
  void (*prepare)(const nomtag_stream* stream, bool writable);
  void (*read_namespace)(const nomtag_stream* stream,
                         const nomtag_tag_sink* sink);
  // Every foreign item; called after prepare(stream, false).
  ForeignItems (*collect_foreign)(const nomtag_stream* stream);
  void (*write_namespace)(const nomtag_stream* stream, const nomtag_tag* tags,
                          size_t tag_count, const nomtag_write_options* opts);
  void (*read_payload)(const nomtag_stream* stream,
                       const nomtag_payload_sink* sink);
  // Both reads from one parse (format.h read_tags_with): the namespace to
  // sink, the foreign items returned, exactly as read_namespace and
  // collect_foreign give them. Required: every bundled format has it.
  ForeignItems (*read_tags)(const nomtag_stream* stream,
                            const nomtag_tag_sink* sink);
};

// The table's calls with their context (format.h, since ABI 1.6); self is
// the FormatFunctions. Defined in format_table.cc.
namespace format_calls {
nomtag_status Probe(void* self, const nomtag_stream* s, int32_t* m,
                    nomtag_error* e);
nomtag_status ReadNamespace(void* self, const nomtag_stream* s,
                            const nomtag_tag_sink* k, nomtag_error* e);
nomtag_status ReadForeign(void* self, const nomtag_stream* s,
                          const nomtag_snapshot_sink* k, nomtag_error* e);
nomtag_status WriteNamespace(void* self, const nomtag_stream* s,
                             const nomtag_tag* t, size_t n,
                             const nomtag_write_options* o, nomtag_error* e);
nomtag_status ReadPayload(void* self, const nomtag_stream* s,
                          const nomtag_payload_sink* k, nomtag_error* e);
nomtag_status ReadTags(void* self, const nomtag_stream* s,
                       const nomtag_tag_sink* t, const nomtag_snapshot_sink* k,
                       nomtag_error* e);
}  // namespace format_calls

// The table for F (valid while the plugin library is loaded).
template <const FormatFunctions& F>
const nomtag_format* FormatTable() {
  namespace c = format_calls;
  static void* const self = const_cast<FormatFunctions*>(&F);
  static const nomtag_format table{
      sizeof(nomtag_format),
      F.container,
      F.extensions,
      [](const nomtag_stream* s, int32_t* m, nomtag_error* e) {
        return c::Probe(self, s, m, e);
      },
      [](const nomtag_stream* s, const nomtag_tag_sink* k, nomtag_error* e) {
        return c::ReadNamespace(self, s, k, e);
      },
      [](const nomtag_stream* s, const nomtag_snapshot_sink* k,
         nomtag_error* e) { return c::ReadForeign(self, s, k, e); },
      [](const nomtag_stream* s, const nomtag_tag* t, size_t n,
         const nomtag_write_options* o,
         nomtag_error* e) { return c::WriteNamespace(self, s, t, n, o, e); },
      [](const nomtag_stream* s, const nomtag_payload_sink* k,
         nomtag_error* e) { return c::ReadPayload(self, s, k, e); },
      self,
      c::Probe,
      c::ReadNamespace,
      c::ReadForeign,
      c::WriteNamespace,
      c::ReadPayload,
      c::ReadTags};
  return &table;
}

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_FORMAT_TABLE_H_
