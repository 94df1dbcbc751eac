// gcma.node: the ioctls of /dev/gcma_test (include/uapi/linux/gcma_test.h)
// and of dma-buf heaps and dma-bufs (linux/dma-heap.h, linux/dma-buf.h). The
// TypeScript layer (lib/device.ts, lib/dma-heap.ts) builds the API on it.
#include <napi.h>

#include "addon.h"
#include "args.h"
#include "commands.h"
#include "device.h"
#include "dma_buf.h"
#include "errors.h"

namespace gcma {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  Napi::Function device = Device::Define(env);
  data->device = Napi::Persistent(device);
  env.SetInstanceData(data);  // deleted with the environment
  exports.Set("Device", device);
  exports.Set("constants", Constants(env));
  exports.Set("dmaBuf", DmaBufExports(env));
  // The code an errno's error gets (for tests: Node's names, on any libc)
  exports.Set("errnoName", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), ErrnoName(static_cast<int>(IntegerArg(info, 0, "errno", 4095))));
  }));
  return exports;
}

}  // namespace gcma

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  return gcma::Init(env, exports);
}

NODE_API_MODULE(gcma, InitAddon)
