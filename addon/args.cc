#include "args.h"

#include <stdint.h>

namespace gcma {
namespace {

// Node's code for the mistake, as its own APIs set it.
template <typename E>
E WithCode(E error, const char* code) {
  error.Set("code", Napi::String::New(error.Env(), code));
  return error;
}

}  // namespace

double IntegerArg(const Napi::CallbackInfo& info, size_t i, const char* name, double max) {
  Napi::Env env = info.Env();
  if (i >= info.Length() || !info[i].IsNumber()) {
    throw WithCode(Napi::TypeError::New(env, std::string(name) + " must be a number"), "ERR_INVALID_ARG_TYPE");
  }
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0 && v <= max) || v != static_cast<double>(static_cast<uint64_t>(v))) {
    throw WithCode(Napi::RangeError::New(env, std::string(name) + " must be an integer from 0 to " +
                                                  std::to_string(static_cast<uint64_t>(max))),
                   "ERR_OUT_OF_RANGE");
  }
  return v;
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsString()) {
    throw WithCode(Napi::TypeError::New(info.Env(), std::string(name) + " must be a string"), "ERR_INVALID_ARG_TYPE");
  }
  std::string s = info[i].As<Napi::String>().Utf8Value();
  if (s.find('\0') != std::string::npos) {
    throw WithCode(Napi::TypeError::New(info.Env(), std::string(name) + " must not contain NUL characters"),
                   "ERR_INVALID_ARG_VALUE");
  }
  return s;
}

}  // namespace gcma
