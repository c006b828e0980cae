/* nomtag SDK — the storage interface ("nomtag.storage/1").
 *
 * A storage plugin keeps libraries, files, tags, calibration and claims
 * (SPEC section 5) in a database. The kind (NOMTAG_KIND_STORAGE) and the
 * id are reserved now; the table is defined together with the first
 * storage plugin (the storage issue), so that it is shaped by real
 * queries rather than guessed. Until then no host asks for this id.
 *
 * UNFINISHED: the nomtag_storage table below is an empty placeholder.
 */
#ifndef NOMTAG_STORAGE_H
#define NOMTAG_STORAGE_H

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NOMTAG_STORAGE_INTERFACE_ID "nomtag.storage/1"

typedef struct nomtag_storage {
  uint32_t struct_size; /* sizeof(nomtag_storage) */
} nomtag_storage;

#ifdef __cplusplus
}
#endif

#endif
