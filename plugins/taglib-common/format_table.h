// The C side of a format plugin, written once.
//
// A plugin writes its format as C++ functions that throw sdk::Error and
// lists them in a FormatFunctions; FormatTable() gives the nomtag_format
// table (format.h) whose entries run them under sdk::guard, so an
// exception becomes a status and a message for the host. The plugin's
// get_interface hands that table out:
//
//   const void* GetInterface(const char* id) {
//     return sdk::interface_is(id, NOMTAG_FORMAT_INTERFACE_ID)
//                ? FormatTable(kFunctions) : nullptr;
//   }
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
};

// The table for these functions (which must outlive the plugin library).
// A plugin library holds one format and its own copy of this library, so
// the table is a single static: every call must pass the same functions.
const nomtag_format* FormatTable(const FormatFunctions& functions);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_FORMAT_TABLE_H_
