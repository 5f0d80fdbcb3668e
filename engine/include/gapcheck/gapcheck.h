/* gapcheck engine: everything a user of the engine needs, in one include. */
#ifndef GAPCHECK_H
#define GAPCHECK_H
#include "status.h"
#include "error.h"
#include "value.h"
#include "zone.h"
#include "state.h"
#include "commit.h"
#include "ctx.h"
#include "wire.h"
#include "pattern.h"
#include "engine.h"
#include "builtins.h"
#include "census.h"
#endif
