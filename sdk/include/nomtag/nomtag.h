/* nomtag SDK — everything a plugin may include, in one header. */
#ifndef NOMTAG_NOMTAG_H
#define NOMTAG_NOMTAG_H

#include "format.h"
#include "inference.h"
#include "plugin.h"
#include "status.h"
#include "storage.h"
#include "stream.h"
#include "version.h"

#endif
