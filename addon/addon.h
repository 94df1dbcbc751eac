// Per-instance state of the addon: it is context-aware, so each Node
// environment (main thread, every worker_thread) loads its own copy.
#ifndef GCMA_ADDON_ADDON_H
#define GCMA_ADDON_ADDON_H

#include <napi.h>

namespace gcma {

struct AddonData {
  Napi::FunctionReference device;  // the Device class of this environment
};

}  // namespace gcma

#endif
