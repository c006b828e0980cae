/* nomtag SDK — ABI version.
 *
 * The ABI is judged by its major number: a host accepts a plugin whose
 * abi_major equals NOMTAG_ABI_MAJOR and whose abi_minor is at least the
 * minor the host needs. A minor bump only appends: new tail entries in
 * tables (each table says since which minor), new interface ids, new
 * status codes. Anything else is a new major.
 */
#ifndef NOMTAG_VERSION_H
#define NOMTAG_VERSION_H

#include <stddef.h>

#define NOMTAG_ABI_MAJOR 1
#define NOMTAG_ABI_MINOR 9
/* 1.1: nomtag_library_info.padding
 * 1.2: nomtag_storage open_v2, worker_start, claim_check, claims_renew,
 *      claim_holders (claims fenced at commit time, workers proved alive
 *      by a lock)
 * 1.3: nomtag_file_info identity and namespace digest; storage file_move
 *      and set_written_v2; nomtag_plugin_entry.settings
 * 1.4: inference: audio wanted, tier sources, streaming audio, the sink's
 *      head_with_spread and embedding; storage: analysis and calibration
 * 1.5: storage library_remove, library_status.folders
 * 1.6: format: `self` and the five calls that take it back
 * 1.7: storage row export/import (db copy)
 * 1.8: format: the payload sink's flags (a coarse description allowed);
 *      storage: nomtag_written_info before_size, before_mtime_ns (an
 *      analysis survives nomtag's own write)
 * 1.9: format: read_tags_with (the namespace and the foreign items from
 *      one parse) */

/* True when the struct `s` points at, of type `type`, is large enough to
 * carry `field`: a struct appended to in a later minor arrives from older
 * plugins and hosts without its tail, and its struct_size says so. */
#define NOMTAG_HAS_FIELD(s, type, field) \
  ((s)->struct_size >= offsetof(type, field) + sizeof((s)->field))

#endif
