/* gapcheck engine: everything a user of the engine needs, in one include:
 * the installed, documented public API. wire.h (the engine's own protocol
 * between the main process and its workers) is not part of it: it is not
 * installed, and the engine's tests and fuzz targets include it by name. */
#ifndef GAPCHECK_H
#define GAPCHECK_H
#include "status.h"
#include "error.h"
#include "value.h"
#include "zone.h"
#include "state.h"
#include "commit.h"
#include "ctx.h"
#include "pattern.h"
#include "engine.h"
#include "builtins.h"
#include "census.h"
#include "measure.h"
#endif
