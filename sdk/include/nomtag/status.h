/* nomtag SDK — status codes and the error buffer.
 *
 * Every SDK function that can fail returns a nomtag_status and takes a
 * nomtag_error* it may fill with a human-readable message. The caller owns
 * the nomtag_error and its buffer; the callee writes at most capacity-1
 * bytes and a NUL, and never keeps the pointer past the call.
 */
#ifndef NOMTAG_STATUS_H
#define NOMTAG_STATUS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Values are stable forever; new codes are appended. A caller that meets a
 * code it does not know treats it as NOMTAG_ERR_INTERNAL. */
typedef int32_t nomtag_status;
enum {
  NOMTAG_OK = 0,
  NOMTAG_ERR_INVALID_ARGUMENT = 1, /* the caller broke a REQUIRES */
  NOMTAG_ERR_UNSUPPORTED = 2,      /* not this plugin's container / feature */
  NOMTAG_ERR_IO = 3,               /* a stream callback failed */
  NOMTAG_ERR_CORRUPT = 4,          /* the data cannot be parsed */
  NOMTAG_ERR_NOT_FOUND = 5,
  NOMTAG_ERR_REFUSED = 6,  /* would lose or change something not ours */
  NOMTAG_ERR_SETTINGS = 7, /* bad settings handed to init/open */
  NOMTAG_ERR_INTERNAL = 8  /* a bug or an unexpected exception */
};

/* Caller-owned message buffer. struct_size = sizeof(nomtag_error). */
typedef struct nomtag_error {
  uint32_t struct_size;
  char *message;   /* caller-owned, capacity bytes; may be NULL */
  size_t capacity; /* 0 when message is NULL */
} nomtag_error;

#ifdef __cplusplus
}
#endif

#endif
