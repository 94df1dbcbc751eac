// gcma.node: the ioctls of /dev/gcma_test (include/uapi/linux/gcma_test.h),
// nothing more. The TypeScript layer (lib/device.ts) builds the API on it.
#include <napi.h>

#include "addon.h"
#include "commands.h"
#include "device.h"

namespace gcma {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  Napi::Function device = Device::Define(env);
  data->device = Napi::Persistent(device);
  env.SetInstanceData(data);  // deleted with the environment
  exports.Set("Device", device);
  exports.Set("constants", Constants(env));
  return exports;
}

}  // namespace gcma

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  return gcma::Init(env, exports);
}

NODE_API_MODULE(gcma, InitAddon)
