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

#define NOMTAG_ABI_MAJOR 1
#define NOMTAG_ABI_MINOR 0

#endif
