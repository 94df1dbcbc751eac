#include "commands.h"

#include <string.h>

#include <algorithm>
#include <iterator>
#include <string>

#include "args.h"

namespace gcma {
namespace {

__u32 U32Arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return static_cast<__u32>(IntegerArg(info, i, name, 4294967295.0));
}

__u64 U64Arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return static_cast<__u64>(IntegerArg(info, i, name, kMaxSafeInteger));
}

Napi::Number U64(Napi::Env env, __u64 v) {
  // PFNs are at most GCMA_TEST_PFN_MAX and counts are in pages: exact.
  return Napi::Number::New(env, static_cast<double>(v));
}

// A name field as a string: the kernel NUL-terminates every name it writes.
Napi::String Name(Napi::Env env, const char (&name)[GCMA_TEST_NAME_LEN]) {
  return Napi::String::New(env, name, strnlen(name, sizeof(name)));
}

Napi::Object Range(Napi::Env env, const gcma_test_range& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("target", Napi::Number::New(env, r.target));
  o.Set("index", Napi::Number::New(env, r.index));
  o.Set("startPfn", U64(env, r.start_pfn));
  o.Set("count", U64(env, r.count));
  o.Set("kernelNs", U64(env, r.kernel_ns));
  return o;
}

void FillRange(const gcma_test_range& r, double* out) {
  const double v[] = {static_cast<double>(r.target), static_cast<double>(r.index), static_cast<double>(r.start_pfn),
                      static_cast<double>(r.count), static_cast<double>(r.kernel_ns)};
  static_assert(std::size(v) == std::size(kRangeFields));
  std::copy(std::begin(v), std::end(v), out);
}

}  // namespace

VersionCommand::Arg VersionCommand::Parse(const Napi::CallbackInfo&) {
  return Arg{};
}

Napi::Value VersionCommand::Result(Napi::Env env, const Arg& v) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("abiVersion", Napi::Number::New(env, v.abi_version));
  o.Set("features", Napi::Number::New(env, v.features));
  o.Set("pageSize", U64(env, v.page_size));
  o.Set("maxAreas", U64(env, v.max_areas));
  return o;
}

RegisterCommand::Arg RegisterCommand::Parse(const Napi::CallbackInfo& info) {
  Arg r{};
  std::string name = StringArg(info, 0, "name");
  // A name that fills the field leaves no NUL: the kernel says ENAMETOOLONG.
  memcpy(r.name, name.data(), std::min(name.size(), sizeof(r.name)));
  r.count = U64Arg(info, 1, "count");
  r.flags = info.Length() > 2 ? U32Arg(info, 2, "flags") : 0;
  return r;
}

Napi::Value RegisterCommand::Result(Napi::Env env, const Arg& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("index", Napi::Number::New(env, r.index));
  o.Set("basePfn", U64(env, r.base_pfn));
  return o;
}

AreaInfoCommand::Arg AreaInfoCommand::Parse(const Napi::CallbackInfo& info) {
  Arg a{};
  a.target = U32Arg(info, 0, "target");
  a.index = U32Arg(info, 1, "index");
  return a;
}

Napi::Value AreaInfoCommand::Result(Napi::Env env, const Arg& a) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("target", Napi::Number::New(env, a.target));
  o.Set("index", Napi::Number::New(env, a.index));
  o.Set("name", Name(env, a.name));
  o.Set("basePfn", U64(env, a.base_pfn));
  o.Set("count", U64(env, a.count));
  o.Set("allocated", U64(env, a.allocated));
  o.Set("cached", U64(env, a.cached));
  o.Set("allocations", U64(env, a.allocations));
  o.Set("failures", U64(env, a.failures));
  o.Set("owned", U64(env, a.owned));
  o.Set("flags", U64(env, a.flags));
  return o;
}

void AreaInfoCommand::Fill(const Arg& a, double* out) {
  const double v[] = {static_cast<double>(a.target), static_cast<double>(a.index),     static_cast<double>(a.base_pfn),
                      static_cast<double>(a.count),  static_cast<double>(a.allocated), static_cast<double>(a.cached),
                      static_cast<double>(a.allocations), static_cast<double>(a.failures), static_cast<double>(a.owned),
                      static_cast<double>(a.flags)};
  static_assert(std::size(v) == kFields);
  std::copy(std::begin(v), std::end(v), out);
}

AllocCommand::Arg AllocCommand::Parse(const Napi::CallbackInfo& info) {
  Arg r{};
  r.target = U32Arg(info, 0, "target");
  r.index = U32Arg(info, 1, "index");
  r.flags = U32Arg(info, 2, "flags");
  r.start_pfn = U64Arg(info, 3, "startPfn");
  r.count = U64Arg(info, 4, "count");
  return r;
}

Napi::Value AllocCommand::Result(Napi::Env env, const Arg& r) {
  return Range(env, r);
}

void AllocCommand::Fill(const Arg& r, double* out) {
  FillRange(r, out);
}

FreeCommand::Arg FreeCommand::Parse(const Napi::CallbackInfo& info) {
  Arg r{};
  r.target = U32Arg(info, 0, "target");
  r.start_pfn = U64Arg(info, 1, "startPfn");
  r.count = U64Arg(info, 2, "count");
  return r;
}

Napi::Value FreeCommand::Result(Napi::Env env, const Arg& r) {
  return Range(env, r);
}

void FreeCommand::Fill(const Arg& r, double* out) {
  FillRange(r, out);
}

namespace {

Napi::Array Names(Napi::Env env, const char* const* names, size_t n) {
  Napi::Array a = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; i++) {
    a.Set(static_cast<uint32_t>(i), Napi::String::New(env, names[i]));
  }
  return a;
}

}  // namespace

Napi::Object Constants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
  c.Set("ABI_VERSION", Napi::Number::New(env, GCMA_TEST_ABI_VERSION));
  c.Set("DEVICE", Napi::String::New(env, GCMA_TEST_DEVICE));
  c.Set("NAME_LEN", Napi::Number::New(env, GCMA_TEST_NAME_LEN));
  c.Set("MAX_AREAS", Napi::Number::New(env, GCMA_TEST_MAX_AREAS));
  c.Set("PFN_MAX", Napi::Number::New(env, static_cast<double>(GCMA_TEST_PFN_MAX)));
  c.Set("AREA_INFO_FIELDS", Names(env, kAreaInfoFields, std::size(kAreaInfoFields)));
  c.Set("RANGE_FIELDS", Names(env, kRangeFields, std::size(kRangeFields)));
  c.Set("TARGET_GCMA", Napi::Number::New(env, GCMA_TEST_TARGET_GCMA));
  c.Set("TARGET_CMA", Napi::Number::New(env, GCMA_TEST_TARGET_CMA));
  c.Set("REGISTER_FROM_CMA", Napi::Number::New(env, GCMA_TEST_REGISTER_FROM_CMA));
  c.Set("ALLOC_ANYWHERE", Napi::Number::New(env, GCMA_TEST_ALLOC_ANYWHERE));
  c.Set("ALLOC_COMPOUND", Napi::Number::New(env, GCMA_TEST_ALLOC_COMPOUND));
  c.Set("ALLOC_DMA", Napi::Number::New(env, GCMA_TEST_ALLOC_DMA));
  c.Set("AREA_DEFAULT", Napi::Number::New(env, GCMA_TEST_AREA_DEFAULT));
  c.Set("AREA_GUARANTEED", Napi::Number::New(env, GCMA_TEST_AREA_GUARANTEED));
  c.Set("FEATURE_GCMA", Napi::Number::New(env, GCMA_TEST_FEATURE_GCMA));
  c.Set("FEATURE_CMA", Napi::Number::New(env, GCMA_TEST_FEATURE_CMA));
  c.Set("FEATURE_CMA_AREAS", Napi::Number::New(env, GCMA_TEST_FEATURE_CMA_AREAS));
  c.Freeze();
  return c;
}

}  // namespace gcma
