/* The SDK headers are plain C: this file includes them all as C99 and
 * checks the layout rules a stable ABI depends on. It fails to compile, or
 * returns non-zero, when a rule is broken. */
#include <nomtag/nomtag.h>
#include <stddef.h>
#include <stdio.h>

#define CHECK(cond)                                              \
  do {                                                           \
    if (!(cond)) {                                               \
      fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                                  \
    }                                                            \
  } while (0)

int main(void) {
  /* Every struct crossing the boundary opens with its size. */
  CHECK(offsetof(nomtag_plugin_entry, struct_size) == 0);
  CHECK(offsetof(nomtag_host, struct_size) == 0);
  CHECK(offsetof(nomtag_error, struct_size) == 0);
  CHECK(offsetof(nomtag_stream, struct_size) == 0);
  CHECK(offsetof(nomtag_format, struct_size) == 0);
  CHECK(offsetof(nomtag_tag, struct_size) == 0);
  CHECK(offsetof(nomtag_tag_sink, struct_size) == 0);
  CHECK(offsetof(nomtag_snapshot_sink, struct_size) == 0);
  CHECK(offsetof(nomtag_payload_sink, struct_size) == 0);
  CHECK(offsetof(nomtag_write_options, struct_size) == 0);
  CHECK(offsetof(nomtag_inference, struct_size) == 0);
  CHECK(offsetof(nomtag_inference_sink, struct_size) == 0);
  CHECK(offsetof(nomtag_audio, struct_size) == 0);
  CHECK(offsetof(nomtag_storage, struct_size) == 0);
  /* The ABI numbers sit at fixed offsets, so a host can read them from a
   * plugin of any major before trusting anything else. */
  CHECK(offsetof(nomtag_plugin_entry, abi_major) == 4);
  CHECK(offsetof(nomtag_plugin_entry, abi_minor) == 8);
  CHECK(NOMTAG_ABI_MAJOR == 1);
  {
    /* A library record from a 1.0 peer ends before `padding`. */
    nomtag_library_info old_info;
    old_info.struct_size = offsetof(nomtag_library_info, padding);
    CHECK(!NOMTAG_HAS_FIELD(&old_info, nomtag_library_info, padding));
    old_info.struct_size = sizeof old_info;
    CHECK(NOMTAG_HAS_FIELD(&old_info, nomtag_library_info, padding));
  }
  {
    /* A written record from a 1.7 host ends before the stamp the write
     * found: the new fields are appended after every older one. */
    nomtag_written_info old_written;
    CHECK(offsetof(nomtag_written_info, before_size) >
          offsetof(nomtag_written_info, namespace_digest));
    old_written.struct_size = offsetof(nomtag_written_info, before_size);
    CHECK(
        !NOMTAG_HAS_FIELD(&old_written, nomtag_written_info, before_mtime_ns));
    old_written.struct_size = sizeof old_written;
    CHECK(NOMTAG_HAS_FIELD(&old_written, nomtag_written_info, before_mtime_ns));
  }
  puts("SDK headers compile as C; layout rules hold");
  return 0;
}
