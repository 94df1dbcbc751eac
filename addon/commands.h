// The ioctls of include/uapi/linux/gcma_test.h, each as a type: its
// struct, its number and name, how JS arguments fill the struct and how the
// struct becomes a JS result. Device runs them synchronously or on a worker.
#ifndef GCMA_ADDON_COMMANDS_H
#define GCMA_ADDON_COMMANDS_H

#include <linux/gcma_test.h>
#include <napi.h>

#include <iterator>

namespace gcma {

struct VersionCommand {
  using Arg = gcma_test_version;
  static constexpr unsigned long kNumber = GCMA_TEST_IOC_VERSION;
  static constexpr const char* kName = "GCMA_TEST_IOC_VERSION";
  // ()
  static Arg Parse(const Napi::CallbackInfo& info);
  static Napi::Value Result(Napi::Env env, const Arg& arg);
};

struct RegisterCommand {
  using Arg = gcma_test_register;
  static constexpr unsigned long kNumber = GCMA_TEST_IOC_REGISTER;
  static constexpr const char* kName = "GCMA_TEST_IOC_REGISTER";
  // (name, count[, flags])
  static Arg Parse(const Napi::CallbackInfo& info);
  static Napi::Value Result(Napi::Env env, const Arg& arg);
};

// The numbers of a command's result, in the order Fill() writes them to a
// Float64Array (the Into form: no object made, for the hot calls). The
// names are exported as constants.AREA_INFO_FIELDS and RANGE_FIELDS.
inline constexpr const char* kAreaInfoFields[] = {"target", "index",  "basePfn",  "count", "allocated",
                                                  "cached", "allocations", "failures", "owned", "flags"};
inline constexpr const char* kRangeFields[] = {"target", "index", "startPfn", "count", "kernelNs"};

struct AreaInfoCommand {
  using Arg = gcma_test_area_info;
  static constexpr unsigned long kNumber = GCMA_TEST_IOC_AREA_INFO;
  static constexpr const char* kName = "GCMA_TEST_IOC_AREA_INFO";
  static constexpr size_t kFields = std::size(kAreaInfoFields);
  // (target, index)
  static Arg Parse(const Napi::CallbackInfo& info);
  static Napi::Value Result(Napi::Env env, const Arg& arg);
  static void Fill(const Arg& arg, double* out);
};

struct AllocCommand {
  using Arg = gcma_test_range;
  static constexpr unsigned long kNumber = GCMA_TEST_IOC_ALLOC;
  static constexpr const char* kName = "GCMA_TEST_IOC_ALLOC";
  static constexpr size_t kFields = std::size(kRangeFields);
  // (target, index, flags, startPfn, count)
  static Arg Parse(const Napi::CallbackInfo& info);
  static Napi::Value Result(Napi::Env env, const Arg& arg);
  static void Fill(const Arg& arg, double* out);
};

struct FreeCommand {
  using Arg = gcma_test_range;
  static constexpr unsigned long kNumber = GCMA_TEST_IOC_FREE;
  static constexpr const char* kName = "GCMA_TEST_IOC_FREE";
  static constexpr size_t kFields = std::size(kRangeFields);
  // (target, startPfn, count)
  static Arg Parse(const Napi::CallbackInfo& info);
  static Napi::Value Result(Napi::Env env, const Arg& arg);
  static void Fill(const Arg& arg, double* out);
};

// The header's constants, for the JS side (exports.constants).
Napi::Object Constants(Napi::Env env);

}  // namespace gcma

#endif
