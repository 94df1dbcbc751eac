#include "args.h"

#include <stdint.h>

namespace gcma {

double IntegerArg(const Napi::CallbackInfo& info, size_t i, const char* name, double max) {
  Napi::Env env = info.Env();
  if (i >= info.Length() || !info[i].IsNumber()) {
    throw Napi::TypeError::New(env, std::string(name) + " must be a number");
  }
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0 && v <= max) || v != static_cast<double>(static_cast<uint64_t>(v))) {
    throw Napi::RangeError::New(env, std::string(name) + " must be an integer from 0 to " +
                                         std::to_string(static_cast<uint64_t>(max)));
  }
  return v;
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsString()) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a string");
  }
  std::string s = info[i].As<Napi::String>().Utf8Value();
  if (s.find('\0') != std::string::npos) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must not contain NUL characters");
  }
  return s;
}

}  // namespace gcma
